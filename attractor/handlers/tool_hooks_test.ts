// Tool-call hooks that misbehave: a hook that floods its output is cut to the
// limit; a hook that never ends is killed with its cancelled tool call.
import assert from "node:assert/strict";
import { DefaultToolRegistry, type ToolContext } from "@forge/agent/tools";
import { HOOK_OUTPUT_LIMIT, withToolHooks } from "./tool_hooks.ts";

async function setup(pre: string) {
  const dir = await Deno.makeTempDir({ prefix: "tool-hooks-" });
  const inner = new DefaultToolRegistry();
  let ran = false;
  inner.register({
    definition: { name: "noop", description: "does nothing", parameters: { type: "object" } },
    execute: () => {
      ran = true;
      return Promise.resolve({ content: "ok", isError: false });
    },
  });
  const hooked = withToolHooks(inner, { pre }, { nodeId: "n", stageDir: dir, cwd: dir });
  return { dir, tool: hooked.get("noop")!, ran: () => ran };
}

Deno.test("tool hooks: a pre-hook that floods its output is cut to the limit, in the model's result and the log", async () => {
  const { dir, tool, ran } = await setup("yes x | tr -d '\\n' | head -c 1000000; exit 3");
  try {
    const ctx = { signal: new AbortController().signal, callId: "c1" } as unknown as ToolContext;
    const out = await tool.execute({}, ctx);
    assert.equal(out.isError, true);
    assert.equal(ran(), false, "the call was skipped");
    assert.ok(String(out.content).length < HOOK_OUTPUT_LIMIT + 200, "the output was cut");
    assert.match(
      String(out.content),
      /exit 3\): x{2000}\n\[… 996000 bytes of output dropped here: [^\]]*\]\nx{2000}$/,
    );
    assert.ok((await Deno.stat(`${dir}/hooks.log`)).size < HOOK_OUTPUT_LIMIT + 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tool hooks: a pre-hook that never ends is killed when its tool call is cancelled", async () => {
  const { dir, tool, ran } = await setup("sleep 30");
  try {
    const abort = new AbortController();
    const ctx = { signal: abort.signal, callId: "c1" } as unknown as ToolContext;
    const started = performance.now();
    setTimeout(() => abort.abort(), 100);
    const out = await tool.execute({}, ctx);
    assert.ok(performance.now() - started < 10_000, "the call did not wait for the hook's 30 s");
    assert.equal(out.isError, true);
    assert.equal(ran(), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
