/**
 * Tool-call hooks (spec §9.7): `tool_hooks.pre` and `tool_hooks.post`, set on
 * the graph or the node, are shell commands run around each of the agent's
 * tool calls. They get the call in their environment
 * (`ATTRACTOR_TOOL_NAME`, `ATTRACTOR_TOOL_CALL_ID`, `ATTRACTOR_NODE_ID`,
 * `ATTRACTOR_STAGE_DIR`) and as JSON on stdin (the post-hook also gets the
 * result). A pre-hook that exits non-zero skips the call (the model sees an
 * error result saying so); a failing post-hook changes nothing. Every hook
 * run is logged to the stage's `hooks.log`. A hook is killed when its tool
 * call is cancelled or times out, and at most 4000 bytes of its stdout and
 * of its stderr are kept (for the log and the model).
 *
 * @module
 */
import { join } from "node:path";
import type { RegisteredTool, ToolContext, ToolOutput, ToolRegistry } from "@forge/agent/tools";

/** The hook commands of a stage. */
export interface ToolHooks {
  /** Runs before each call; non-zero skips it. */
  readonly pre?: string;
  /** Runs after each call. */
  readonly post?: string;
}

/** Most bytes of a hook's stdout and of its stderr kept for the log and the model. */
export const HOOK_OUTPUT_LIMIT = 4000;

/** Reads a stream to its end, keeping its first `limit` bytes. */
async function capped(stream: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const kept: Uint8Array[] = [];
  let size = 0;
  let dropped = 0;
  for await (const chunk of stream) {
    const part = chunk.subarray(0, Math.max(0, limit - size));
    if (part.length) kept.push(part);
    size += part.length;
    dropped += chunk.length - part.length;
  }
  const text = new TextDecoder().decode(
    kept.length === 1 ? kept[0] : kept.reduce((all, c) => {
      const next = new Uint8Array(all.length + c.length);
      next.set(all);
      next.set(c, all.length);
      return next;
    }, new Uint8Array()),
  );
  return dropped ? `${text}… [${dropped} more bytes]` : text;
}

async function runHook(
  command: string,
  input: unknown,
  env: Record<string, string>,
  cwd: string,
  signal: AbortSignal,
): Promise<{ code: number; output: string }> {
  // The hook runs in a process group of its own, so that a cancelled or
  // timed-out tool call kills it with whatever it started, and nothing it
  // leaves behind holds its output open or outlives it.
  const group = Deno.build.os !== "windows";
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    cwd,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: group,
  }).spawn();
  const kill = () => {
    try {
      Deno.kill(group ? -child.pid : child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  if (signal.aborted) kill();
  const stdout = capped(child.stdout, HOOK_OUTPUT_LIMIT);
  const stderr = capped(child.stderr, HOOK_OUTPUT_LIMIT);
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(JSON.stringify(input)));
    await writer.close();
  } catch {
    // A hook that does not read its stdin closes the pipe early: not an error.
  }
  try {
    const status = await child.status;
    if (group) kill(); // its background jobs go with it
    const [out, err] = await Promise.all([stdout, stderr]);
    return { code: status.code, output: (out + err).trim() };
  } finally {
    signal.removeEventListener("abort", kill);
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
          `post ${name} ${callId}: exit ${post.code}${post.output ? ` ${post.output}` : ""}`,
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
