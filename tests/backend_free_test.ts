/**
 * Record definitions, the store contract and the record writer load no
 * backend: importing them never pulls in Deno KV, the filesystem log, the
 * memory store, the URL opener or a CXDB client. Checked on the module graph
 * `deno info` resolves, so a stray import anywhere below them fails here.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

const BACKEND_MODULES = [
  "turnstore/kv/",
  "turnstore/fs/",
  "turnstore/memory/",
  "turnstore/open.ts",
  "turnstore/mod.ts",
  "cxdb/",
];

async function moduleGraph(path: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(path, root).pathname],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  return info.modules.map((m) => m.specifier);
}

for (
  const path of [
    "agent/records.ts",
    "attractor/records.ts",
    "turnstore/records/mod.ts",
    "turnstore/contract.ts",
    "turnstore/writer/mod.ts",
  ]
) {
  Deno.test(`${path} loads no backend`, async () => {
    const graph = await moduleGraph(path);
    const local = graph.filter((s) => s.startsWith(root.href)).map((s) =>
      s.slice(root.href.length)
    );
    assert.ok(local.length > 1, `the graph of ${path} was resolved: ${local.join(" ")}`);
    const backends = local.filter((m) => BACKEND_MODULES.some((b) => m.startsWith(b)));
    assert.deepEqual(backends, [], `${path} pulls in backend modules`);
  });
}
