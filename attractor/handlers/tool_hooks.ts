/**
 * Tool-call hooks (spec §9.7): `tool_hooks.pre` and `tool_hooks.post`, set on
 * the graph or the node, are shell commands run around each of the agent's
 * tool calls. They get the call in their environment
 * (`ATTRACTOR_TOOL_NAME`, `ATTRACTOR_TOOL_CALL_ID`, `ATTRACTOR_NODE_ID`,
 * `ATTRACTOR_STAGE_DIR`) and as JSON on stdin (the post-hook also gets the
 * result). A pre-hook that exits non-zero skips the call (the model sees an
 * error result saying so); a failing post-hook changes nothing. Every hook
 * run is logged to the stage's `hooks.log`. A hook runs like a tool stage's
 * command (agent/env's `runProcess`): it is killed with what it started when
 * its tool call is cancelled or times out, and at most 4000 bytes of its
 * stdout and of its stderr are kept (the first and last 2000) for the log
 * and the model.
 *
 * @module
 */
import { join } from "node:path";
import type { RegisteredTool, ToolContext, ToolOutput, ToolRegistry } from "@forge/agent/tools";
import { EnvError, runProcess } from "@forge/agent/env";
import { inheritedEnv, NO_TIMEOUT_MS, SHELL } from "./shell.ts";

/** The hook commands of a stage. */
export interface ToolHooks {
  /** Runs before each call; non-zero skips it. */
  readonly pre?: string;
  /** Runs after each call. */
  readonly post?: string;
}

/** Most bytes of a hook's stdout and of its stderr kept for the log and the model. */
export const HOOK_OUTPUT_LIMIT = 4000;

/** What a hook run came to: its exit code and output, or that its tool call was cancelled. */
type HookRun = { readonly code: number; readonly output: string } | { readonly cancelled: true };

/**
 * Runs one hook through agent/env's runProcess: in a process group of its
 * own (a cancelled tool call kills it with whatever it started), with the
 * runner's environment plus `env`, `input` as JSON on stdin, and at most
 * HOOK_OUTPUT_LIMIT bytes of each stream kept (the first and last halves).
 */
async function runHook(
  command: string,
  input: unknown,
  env: Record<string, string>,
  cwd: string,
  signal: AbortSignal,
): Promise<HookRun> {
  try {
    const result = await runProcess({
      program: SHELL,
      args: ["-c", command],
      cwd,
      env: { ...inheritedEnv(), ...env },
      timeoutMs: NO_TIMEOUT_MS,
      signal,
      stdin: new TextEncoder().encode(JSON.stringify(input)),
      maxOutputBytes: HOOK_OUTPUT_LIMIT,
    });
    return { code: result.exitCode, output: (result.stdout + result.stderr).trim() };
  } catch (error) {
    if (error instanceof EnvError && error.code === "Aborted") return { cancelled: true };
    throw error;
  }
}

/** A tool registry whose tools run the hooks around every call (the session copies tools by `get`). */
export function withToolHooks(
  inner: ToolRegistry,
  hooks: ToolHooks,
  stage: { readonly nodeId: string; readonly stageDir: string; readonly cwd: string },
): ToolRegistry {
  const log = (line: string) =>
    Deno.writeTextFile(join(stage.stageDir, "hooks.log"), `${new Date().toISOString()} ${line}\n`, {
      append: true,
    });
  const wrap = (tool: RegisteredTool): RegisteredTool => ({
    definition: tool.definition,
    parse: tool.parse,
    async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
      const name = tool.definition.name;
      const callId = ctx.callId ?? "";
      const env = {
        ATTRACTOR_TOOL_NAME: name,
        ATTRACTOR_TOOL_CALL_ID: callId,
        ATTRACTOR_NODE_ID: stage.nodeId,
        ATTRACTOR_STAGE_DIR: stage.stageDir,
      };
      const payload = { tool: name, call_id: callId, arguments: args };
      if (hooks.pre) {
        const pre = await runHook(hooks.pre, payload, env, stage.cwd, ctx.signal);
        if ("cancelled" in pre) {
          await log(`pre ${name} ${callId}: cancelled with its tool call`);
          return { content: "tool call cancelled while its pre-hook ran", isError: true };
        }
        await log(`pre ${name} ${callId}: exit ${pre.code}${pre.output ? ` ${pre.output}` : ""}`);
        if (pre.code !== 0) {
          return {
            content: `tool call skipped by the pre-hook (exit ${pre.code})${
              pre.output ? `: ${pre.output}` : ""
            }`,
            isError: true,
          };
        }
      }
      const output = await tool.execute(args, ctx);
      if (hooks.post) {
        const post = await runHook(
          hooks.post,
          { ...payload, is_error: output.isError, output: output.content },
          env,
          stage.cwd,
          ctx.signal,
        );
        await log(
          "cancelled" in post
            ? `post ${name} ${callId}: cancelled with its tool call`
            : `post ${name} ${callId}: exit ${post.code}${post.output ? ` ${post.output}` : ""}`,
        );
      }
      return output;
    },
  });
  return {
    register: (tool) => inner.register(tool),
    unregister: (name) => inner.unregister(name),
    get: (name) => {
      const tool = inner.get(name);
      return tool && wrap(tool);
    },
    names: () => inner.names(),
    definitions: () => inner.definitions(),
    execute: (call, ctx) => inner.execute(call, ctx),
  };
}
