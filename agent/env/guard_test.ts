import assert from "node:assert/strict";
import { join } from "node:path";
import { isWithin, WorkspacePathGuard } from "./guard.ts";
import { EnvError } from "./types.ts";

Deno.test("guard: isWithin accepts the root and its descendants only", () => {
  assert.equal(isWithin("/ws", "/ws"), true);
  assert.equal(isWithin("/ws", "/ws/a/b"), true);
  assert.equal(isWithin("/ws", "/ws2"), false);
  assert.equal(isWithin("/ws", "/"), false);
  assert.equal(isWithin("/ws", "/ws/../etc"), false);
});

Deno.test("guard: forWrite resolves a not-yet-existing path through its real existing ancestor", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(join(root, "real"));
    await Deno.symlink(join(root, "real"), join(root, "alias"));
    const guard = new WorkspacePathGuard(root);
    assert.equal(await guard.forWrite("alias/new/deep.txt"), join(root, "real/new/deep.txt"));
    assert.equal(await guard.forEntry("alias"), join(root, "alias"));
    const error = await guard.forEntry(".").catch((e) => e);
    assert.ok(error instanceof EnvError && error.code === "PermissionDenied");
    assert.match(error.message, /workspace root itself/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("guard: a NUL byte in a path is refused", async () => {
  const guard = new WorkspacePathGuard("/tmp");
  await assert.rejects(guard.forRead("a\0b"), /NUL byte/);
});
