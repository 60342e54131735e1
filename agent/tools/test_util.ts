// Helpers shared by the tool tests: a real temp workspace and a way to call one tool.
import { LocalExecutionEnvironment } from "../env/local.ts";
import type { ExecutionEnvironment } from "../env/types.ts";
import type { RegisteredTool, ToolInvocationResult, ToolSettings } from "./types.ts";
import { DefaultToolRegistry } from "./registry.ts";

/** A temp directory with a local environment rooted there; removed on dispose. */
export async function tempWorkspace(): Promise<
  { dir: string; env: ExecutionEnvironment } & AsyncDisposable
> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-tools-" }));
  const env = new LocalExecutionEnvironment({ workingDirectory: dir, killGraceMs: 300 });
  await env.initialize();
  return {
    dir,
    env,
    async [Symbol.asyncDispose]() {
      await env.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs one call of `tool` through a registry holding only it. */
export function call(
  tool: RegisteredTool,
  env: ExecutionEnvironment,
  args: unknown,
  settings?: ToolSettings,
): Promise<ToolInvocationResult> {
  const registry = new DefaultToolRegistry([tool]);
  return registry.execute(
    { name: tool.definition.name, arguments: args },
    { env, signal: new AbortController().signal, settings },
  );
}
