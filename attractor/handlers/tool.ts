/**
 * The tool handler (spec §4.10, reference "tool nodes"): runs `tool_command`
 * with `sh -c` in the stage directory's environment (`ATTRACTOR_STAGE_DIR`,
 * `ATTRACTOR_NODE_ID`, `ATTRACTOR_LOGS_ROOT`), writes its output to
 * `tool_output.txt`, and decides the outcome from the `status.json` the
 * command wrote, else from its exit code. A timeout or a non-zero exit is
 * FAIL. The command runs in a process group of its own (`runProcess` of
 * `@forge/agent/env`): a timeout or a cancellation kills it and everything
 * it started, background jobs it leaves behind are killed when it exits (so
 * they neither hold the stage open nor outlive the run), and at most 1 MiB
 * of each stream is kept (its first and last halves).
 *
 * @module
 */
import { join } from "node:path";
import { runProcess } from "@forge/agent/env";
import type { Handler, HandlerInput } from "../engine/handler.ts";
import type { Outcome } from "../engine/outcome.ts";
import { readStatusFile } from "./codergen.ts";
import { inheritedEnv, NO_TIMEOUT_MS, SHELL } from "./shell.ts";

/** Most characters of stdout put into the context as `tool.output`. */
const CONTEXT_OUTPUT_LIMIT = 4000;

/** Runs shell commands. */
export class ToolHandler implements Handler {
  /** Executes the command. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const { node } = input;
    const command = node.attrs.tool_command ?? node.attrs.command ?? "";
    if (!command.trim()) {
      return { status: "fail", failureReason: `tool node ${node.id} has no tool_command` };
    }
    const statusPath = join(input.stageDir, "status.json");
    await Deno.remove(statusPath).catch(() => {});
    const cwd = node.attrs.tool_workdir
      ? join(input.baseDir, node.attrs.tool_workdir)
      : input.baseDir;
    let output: { code: number; success: boolean; stdout: string; stderr: string };
    try {
      const result = await runProcess({
        program: SHELL,
        args: ["-c", command],
        cwd,
        env: {
          ...inheritedEnv(),
          ATTRACTOR_STAGE_DIR: input.stageDir,
          ATTRACTOR_NODE_ID: node.id,
          ATTRACTOR_LOGS_ROOT: input.logsRoot,
          ATTRACTOR_RUN_ID: input.runId,
        },
        timeoutMs: NO_TIMEOUT_MS,
        signal: input.signal,
      });
      output = {
        code: result.exitCode,
        success: result.exitCode === 0,
        stdout: result.stdout,
        stderr: result.stderr,
      };
    } catch (error) {
      if (input.signal.aborted) throw input.signal.reason ?? error;
      return {
        status: "fail",
        failureReason: `tool ${node.id} could not start: ${(error as Error).message}`,
      };
    }
    const { stdout, stderr } = output;
    await Deno.writeTextFile(
      join(input.stageDir, "tool_output.txt"),
      stderr
        ? `${stdout}${stdout.endsWith("\n") || !stdout ? "" : "\n"}--- stderr ---\n${stderr}`
        : stdout,
    );
    if (input.signal.aborted) throw input.signal.reason;
    const toolOutput = stdout.length > CONTEXT_OUTPUT_LIMIT
      ? stdout.slice(0, CONTEXT_OUTPUT_LIMIT)
      : stdout;
    if (!output.success) {
      return {
        status: "fail",
        failureReason: `tool ${node.id} exited with code ${output.code}${
          output.code > 128 ? ` (signal ${output.code - 128})` : ""
        }${stderr.trim() ? `: ${stderr.trim().split("\n").at(-1)}` : ""}`,
        contextUpdates: { "tool.output": toolOutput, "tool.exit_code": output.code },
      };
    }
    const written = await readStatusFile(statusPath);
    if (written) {
      return {
        ...written,
        contextUpdates: { "tool.output": toolOutput, ...written.contextUpdates },
      };
    }
    return {
      status: "success",
      notes: node.autoStatus
        ? "auto-status: handler completed without writing status"
        : `Tool completed: ${command}`,
      contextUpdates: { "tool.output": toolOutput, "tool.exit_code": 0 },
    };
  }
}
