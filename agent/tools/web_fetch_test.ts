import assert from "node:assert/strict";
import { webFetchTool } from "./web_fetch.ts";
import { call, tempWorkspace } from "./test_util.ts";
import { ConfinedEnvironment } from "../env/confined.ts";

Deno.test("web_fetch returns status and body from an allowed host", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/missing"
        ? new Response("nope", { status: 404 })
        : new Response("hello body"),
  );
  const dir = await Deno.makeTempDir();
  await using env = new ConfinedEnvironment({
    workspace: dir,
    sandbox: "none",
    allowedHosts: [`127.0.0.1:${server.addr.port}`],
  });
  try {
    await env.initialize();
    const r = await call(webFetchTool(), env, { url: `http://127.0.0.1:${server.addr.port}/` });
    assert.deepEqual([r.isError, r.content], [false, "HTTP 200\n\nhello body"]);
    const missing = await call(webFetchTool(), env, {
      url: `http://127.0.0.1:${server.addr.port}/missing`,
    });
    assert.deepEqual([missing.isError, missing.content], [true, "HTTP 404\n\nnope"]);
    const denied = await call(webFetchTool(), env, { url: "http://127.0.0.1:1/" });
    assert.equal(denied.isError, true);
    assert.match(denied.content, /^PermissionDenied: .*127\.0\.0\.1:1 is not allowed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web_fetch on an environment without network says so", async () => {
  await using ws = await tempWorkspace();
  const r = await call(webFetchTool(), ws.env, { url: "http://127.0.0.1:1/" });
  assert.deepEqual([r.isError, r.content], [true, "This environment offers no network access."]);
});
