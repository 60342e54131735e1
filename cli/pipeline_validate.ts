/**
 * `forge validate <pipeline.dot>`: parse and lint; exit 0 when valid
 * (warnings allowed), 1 when the graph has errors or does not parse, 2 for
 * usage errors.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Diagnostic, DotParseError, preparePipeline } from "@forge/attractor";
import type { CliIo } from "./cli.ts";
import { fileProblem } from "./file_errors.ts";
import { argsProblem, wantsHelp } from "./views/args.ts";

const USAGE = `usage: forge validate <pipeline.dot> [--json]

  parses and lints the pipeline: every diagnostic with its rule, severity, node or edge,
  line:column and fix; --json prints one JSON document (a parse error as parseError)

exit codes: 0 valid (warnings allowed), 1 errors or a parse error, 2 usage`;

/** Formats one diagnostic as a line. */
export function formatDiagnostic(d: Diagnostic, file: string): string {
  const where = d.loc ? `${file}:${d.loc.line}:${d.loc.column}` : file;
  const subject = d.nodeId
    ? `node ${d.nodeId}`
    : d.edge
    ? `edge ${d.edge.from} -> ${d.edge.to}`
    : "";
  // Most messages already start with their subject; say it once.
  const message = subject && /^[ :]/.test(d.message.slice(subject.length)) &&
      d.message.startsWith(subject)
    ? d.message
    : subject
    ? `${subject}: ${d.message}`
    : d.message;
  return `${where}: ${d.severity} [${d.rule}] ${message}${d.fix ? ` (fix: ${d.fix})` : ""}`;
}

/** Runs `forge validate`. */
export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  if (wantsHelp(args)) {
    io.out(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" } } });
  } catch (error) {
    io.err(`forge validate: ${argsProblem(error)}\n${USAGE}`);
    return 2;
  }
  const [file, extra] = parsed.positionals;
  if (!file || extra) {
    io.err(`forge validate: needs exactly one pipeline file\n${USAGE}`);
    return 2;
  }
  let source: string;
  try {
    source = await Deno.readTextFile(file);
  } catch (error) {
    io.err(`forge validate: cannot read ${file}: ${fileProblem(error)}`);
    return 2;
  }
  let diagnostics: readonly Diagnostic[];
  try {
    diagnostics = preparePipeline(source).diagnostics;
  } catch (error) {
    if (error instanceof DotParseError) {
      if (parsed.values.json) {
        // Scripts get one JSON document whatever went wrong with the file.
        io.out(JSON.stringify({
          file,
          valid: false,
          parseError: {
            code: error.code,
            message: error.reason,
            line: error.line,
            column: error.column,
          },
          diagnostics: [],
        }));
      } else io.err(`${file}: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (parsed.values.json) {
    io.out(JSON.stringify({ file, valid: errors === 0, diagnostics }));
  } else {
    for (const d of diagnostics) {
      (d.severity === "error" ? io.err : io.out)(formatDiagnostic(d, file));
    }
    const warnings = diagnostics.filter((d) => d.severity === "warning").length;
    io.out(
      `${file}: ${errors ? "invalid" : "valid"} (${errors} error${
        errors === 1 ? "" : "s"
      }, ${warnings} warning${warnings === 1 ? "" : "s"})`,
    );
  }
  return errors ? 1 : 0;
}
