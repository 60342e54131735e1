/**
 * A helper of the escape suite, not part of the library: an agent in a
 * process of its own, so a test can start it the way the outside world
 * might (holding a descriptor it did not open, or without permission to run
 * bubblewrap). Usage: `escape_probe_main.ts <workspace> <calls JSON>`, where
 * the calls are `[{ "name": tool, "arguments": {…} }, …]`; it runs them
 * through the tool registry on `defaultEnvironment(workspace)` and prints
 * one JSON object: the confinement and each call's output.
 *
 * @module
 */

import { defaultEnvironment } from "../confinement.ts";
import { DefaultToolRegistry } from "../../tools/registry.ts";
import { coreTools } from "../../tools/core.ts";

const [workspace, callsJson] = Deno.args;
const calls = JSON.parse(callsJson) as { name: string; arguments: Record<string, unknown> }[];
await using env = await defaultEnvironment(workspace);
const registry = new DefaultToolRegistry(coreTools({ applyPatch: true }));
const outputs: string[] = [];
for (const call of calls) {
  const result = await registry.execute(call, {
    env,
    signal: new AbortController().signal,
    settings: { commandEnv: {} },
  });
  outputs.push(result.fullContent ?? result.content);
}
console.log(JSON.stringify({ confinement: env.confinement(), outputs }));
