/**
 * shell: runs a command line through the environment, in its own process
 * group, under a timeout (default 10 s, capped by the configured maximum).
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool, ToolOutput } from "./types.ts";
import type { ExecResult } from "../env/types.ts";
import { defineTool } from "./define.ts";

/** Spec §5.4 default timeout. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** Spec §5.4 upper bound. */
export const MAX_COMMAND_TIMEOUT_MS = 600_000;

/** Options of {@linkcode shellTool}. */
export interface ShellToolOptions {
  /**
   * A default built into this tool; wins over the session's. The built-in
   * profiles leave it unset and declare `defaultCommandTimeoutMs` instead,
   * which the session passes as a setting after the host's own config.
   */
  readonly defaultTimeoutMs?: number;
}

/** Formats a command's result for the model. */
export function formatExecResult(result: ExecResult, timeoutMs: number): ToolOutput {
  const parts: string[] = [];
  if (result.stdout) parts.push(result.stdout.replace(/\n$/, ""));
  if (result.stderr) parts.push(`[stderr]\n${result.stderr.replace(/\n$/, "")}`);
  if (result.timedOut) {
    parts.push(
      `[ERROR: Command timed out after ${timeoutMs}ms. Partial output is shown above.\n` +
        `You can retry with a longer timeout by setting the timeout_ms parameter.]`,
    );
  }
  const limits = (result.limitsHit ?? []).filter((hit) => hit.kind !== "time");
  for (const hit of limits) parts.push(`[ERROR: limit reached (${hit.kind}): ${hit.message}]`);
  parts.push(`[exit code ${result.exitCode}, ${result.durationMs} ms]`);
  return {
    content: parts.join("\n"),
    isError: result.timedOut || result.exitCode !== 0 || limits.length > 0,
  };
}

/** The shell tool. */
export function shellTool(options: ShellToolOptions = {}): RegisteredTool {
  return defineTool({
    name: "shell",
    description: "Execute a shell command. Returns stdout, stderr, and exit code.",
    schema: z.object({
      command: z.string().min(1).describe("The command to run"),
      timeout_ms: z.number().int().min(1).optional().describe(
        "Timeout in milliseconds (overrides the default)",
      ),
      description: z.string().optional().describe("What this command does, for humans"),
    }),
    async execute(args, { env, signal, settings, onOutput }) {
      const max = settings?.maxCommandTimeoutMs ?? MAX_COMMAND_TIMEOUT_MS;
      // A default built into the tool beats the session's; the session's setting is already
      // SessionConfig's value, else the profile's (Claude's 120 s, spec §3.5).
      const wanted = args.timeout_ms ?? options.defaultTimeoutMs ??
        settings?.defaultCommandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      const timeoutMs = Math.min(wanted, max);
      const result = await env.execCommand({
        command: args.command,
        timeoutMs,
        env: settings?.commandEnv,
        signal,
        onOutput,
      });
      const output = formatExecResult(result, timeoutMs);
      if (wanted > max) {
        return {
          ...output,
          content:
            `${output.content}\n[timeout_ms ${wanted} exceeds the maximum; ${max} ms was used]`,
        };
      }
      return output;
    },
  });
}
