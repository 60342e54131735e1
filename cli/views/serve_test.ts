// `forge serve` as a user ends it: Ctrl-C (SIGINT) or SIGTERM to a real
// `deno run cli/main.ts serve` process, with a page's event stream open.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { openStore } from "@forge/stores";
import { runCli } from "../cli.ts";
import { serveHandler } from "./serve.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "../catalogs.ts";

const MAIN = resolve(import.meta.dirname!, "..", "main.ts");
const PERMS = [
  "--unstable-kv",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net=127.0.0.1,localhost",
];

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`forge serve: ${signal} ends the open event streams, closes the store and exits 0 with one line saying so`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-serve-" });
    try {
      // An fs: store is locked by the process that opens it: it opens again only once closed.
      const store = `fs:${join(dir, "store")}`;
      await (await openStore(store)).close();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMS, MAIN, "serve", "--port", "0", "--store", store],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!/http:\/\/127\.0\.0\.1:\d+\//.test(out)) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      const base = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
      assert.ok(base, `serve printed its address: ${out}`);
      const events = await fetch(`${base}/events`);
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("event: ready")) seen += (await reader.read()).value ?? "";
      child.kill(signal);
      const sent = Date.now();
      // The open stream ends (the server does not wait for the page to leave).
      for (;;) {
        try {
          if ((await reader.read()).done) break;
        } catch {
          break; // the connection was closed under the reader
        }
      }
      const status = await child.status;
      const err = await new Response(child.stderr).text();
      await lines.cancel();
      assert.ok(Date.now() - sent < 5000, "stopped promptly");
      assert.equal(status.code, 0, err);
      assert.equal(err, `forge serve: ${signal} received; stopped\n`);
      // The store was closed: its lock is free, and it is a store another command reads.
      const runs = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMS, MAIN, "runs", "--store", store],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(runs.code, 0, new TextDecoder().decode(runs.stderr));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("forge serve on a port that is taken exits 1 with one line naming the port, not the OS error", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const err: string[] = [];
  const code = await runCli(["serve", "--port", String(port), "--store", "memory:"], {
    out: () => {},
    err: (t) => err.push(t),
  }, { openStore, catalogs: PROJECT_CATALOGS, bundles: PROJECT_BUNDLES });
  assert.equal(code, 1);
  assert.deepEqual(err, [
    `forge serve: port ${port} on 127.0.0.1 is in use (another forge serve?); ` +
    "pick another with --port N, or --port 0 for any free one",
  ]);
});

Deno.test("forge serve: an event stream's listener on the server's stop signal goes when the page leaves or the server stops", async () => {
  await using store = await openStore("memory:");
  const ctx = {
    store,
    storeUrl: "memory:",
    catalogs: PROJECT_CATALOGS,
    bundles: PROJECT_BUNDLES,
    out: () => {},
    err: () => {},
    writeFile: () => Promise.resolve(),
  };
  // The server-wide stop signal, counting the abort listeners it holds.
  const stop = new AbortController();
  const held = new Set<unknown>();
  const add = stop.signal.addEventListener.bind(stop.signal);
  const remove = stop.signal.removeEventListener.bind(stop.signal);
  stop.signal.addEventListener = ((type: string, l: EventListener, o?: AddEventListenerOptions) => {
    if (type === "abort") held.add(l);
    add(type, l, o);
  }) as typeof stop.signal.addEventListener;
  stop.signal.removeEventListener = ((type: string, l: EventListener, o?: EventListenerOptions) => {
    if (type === "abort") held.delete(l);
    remove(type, l, o);
  }) as typeof stop.signal.removeEventListener;
  const handler = serveHandler(ctx, undefined, stop.signal);
  const open = async () => {
    const res = await handler(new Request("http://127.0.0.1:7474/events"));
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value!, /event: ready/);
    return reader;
  };
  // Ten page loads that leave: no listener stays behind.
  for (let i = 0; i < 10; i++) await (await open()).cancel();
  assert.equal(held.size, 0, "a listener per page load that left");
  // Open pages hold one each until the server stops; their streams then end.
  const pages = [await open(), await open()];
  assert.equal(held.size, 2);
  stop.abort();
  for (const page of pages) assert.equal((await page.read()).done, true);
  assert.equal(held.size, 0);
});
