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
  assert.equal(isWithin("/ws", "/ws/..name"), true, "a child named ..name is inside");
  assert.equal(isWithin("/ws", "/ws/a/../../x"), false);
});

Deno.test("guard: a file whose name starts with two dots is inside; a link out of the workspace is not", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir());
  const outside = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(join(root, "..notes"), "x");
    await Deno.symlink(outside, join(root, "out"));
    const guard = new WorkspacePathGuard(root);
    assert.equal(guard.forRead("..notes"), join(root, "..notes"));
    assert.equal(guard.forRead(join(root, "..notes")), join(root, "..notes"));
    assert.throws(
      () => guard.forRead("out"),
      (e: EnvError) => e.code === "PermissionDenied",
    );
    assert.throws(
      () => guard.forRead(`${root}/../${outside.split("/").pop()}`),
      (e: EnvError) => e.code === "PermissionDenied",
    );
    // A sibling whose name extends the workspace's is outside.
    assert.throws(
      () => guard.forRead(`${root}2`),
      (e: EnvError) => e.code === "PermissionDenied",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("guard: forWrite resolves a not-yet-existing path through its real existing ancestor", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(join(root, "real"));
    await Deno.symlink(join(root, "real"), join(root, "alias"));
    const guard = new WorkspacePathGuard(root);
    assert.equal(guard.forWrite("alias/new/deep.txt"), join(root, "real/new/deep.txt"));
    assert.equal(guard.forEntry("alias"), join(root, "alias"));
    let error: unknown;
    try {
      guard.forEntry(".");
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof EnvError && error.code === "PermissionDenied");
    assert.match(error.message, /workspace root itself/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("guard: a NUL byte in a path is refused", () => {
  const guard = new WorkspacePathGuard("/tmp");
  assert.throws(() => guard.forRead("a\0b"), /NUL byte/);
});
