import assert from "node:assert/strict";
import { fetchAllowed, hostAllowed } from "./fetch_policy.ts";
import { EnvError } from "./types.ts";

Deno.test("fetch policy: a bare host allows any port, host:port only that port", () => {
  assert.equal(hostAllowed(new URL("http://a.test:81/"), ["a.test"]), true);
  assert.equal(hostAllowed(new URL("https://a.test/"), ["a.test:443"]), true);
  assert.equal(hostAllowed(new URL("http://a.test/"), ["a.test:443"]), false);
  assert.equal(hostAllowed(new URL("http://b.test/"), ["a.test"]), false);
});

Deno.test("fetch policy: redirects are followed on allowed hosts and refused elsewhere", async () => {
  await using other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("other"),
  );
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/hop") return Response.redirect(new URL("/final", req.url), 302);
    if (path === "/away") return Response.redirect(`http://localhost:${other.addr.port}/`, 302);
    if (path === "/loop") return Response.redirect(new URL("/loop", req.url), 302);
    return new Response("x".repeat(100));
  });
  const allowed = [`127.0.0.1:${server.addr.port}`];
  const base = `http://127.0.0.1:${server.addr.port}`;
  const hop = await fetchAllowed(allowed, { url: `${base}/hop`, maxBytes: 10 });
  assert.equal(hop.status, 200);
  assert.equal(hop.body, "x".repeat(10));
  assert.equal(hop.truncated, true);
  const away = await fetchAllowed(allowed, { url: `${base}/away` }).catch((e) => e);
  assert.ok(away instanceof EnvError && away.code === "PermissionDenied", String(away));
  assert.match(
    away.message,
    /redirect from 127\.0\.0\.1:\d+: network access to localhost:\d+ is not allowed/,
  );
  const loop = await fetchAllowed(allowed, { url: `${base}/loop` }).catch((e) => e);
  assert.ok(loop instanceof EnvError);
  assert.match(loop.message, /more than 5 redirects/);
  const file = await fetchAllowed(allowed, { url: "file:///etc/passwd" }).catch((e) => e);
  assert.ok(file instanceof EnvError && file.code === "PermissionDenied");
});
