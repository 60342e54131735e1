import assert from "node:assert/strict";
import { blake3Hex, toHex } from "@forge/turnstore";
import { captureSnapshot, diffSnapshots, FsTreeError, uploadSnapshot } from "./snapshot.ts";
import { decodeTree, encodeTree } from "./tree.ts";
import { startPeer } from "../testing/peer.ts";
import { openCxdbStore } from "../store/store.ts";
import { DIR_MODE, FILES, rootTree, SUBTREE } from "./testdata/tree_vectors.ts";

/** A workspace of four files in a subfolder and the top, with their modes. */
async function fixtureWorkspace(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fstree-" });
  await Deno.mkdir(`${dir}/src`);
  const files: [string, string, number][] = [
    ["README.md", "# Test", 0o644],
    ["script.sh", "#!/bin/bash\necho hi", 0o755],
    ["src/main.go", "package main", 0o644],
    ["src/lib.go", "package main\n\nfunc foo() {}", 0o644],
  ];
  for (const [path, text, mode] of files) {
    await Deno.writeTextFile(`${dir}/${path}`, text);
    await Deno.chmod(`${dir}/${path}`, mode);
  }
  await Deno.chmod(`${dir}/src`, 0o755);
  return dir;
}

const te = new TextEncoder();

Deno.test("capturing the vector workspace reproduces the hand-assembled trees byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fstree-vec-" });
  try {
    await Deno.mkdir(`${dir}/b`);
    for (const file of FILES) {
      await Deno.writeFile(`${dir}/${file.path}`, file.content);
      await Deno.chmod(`${dir}/${file.path}`, file.mode);
    }
    await Deno.chmod(`${dir}/b`, DIR_MODE);
    const snap = await captureSnapshot(dir);
    const subHash = blake3Hex(SUBTREE);
    const root = rootTree(subHash);
    assert.equal(snap.rootHash, blake3Hex(root));
    assert.deepEqual(
      Object.fromEntries([...snap.trees].map(([h, b]) => [h, toHex(b)])),
      { [subHash]: toHex(SUBTREE), [snap.rootHash]: toHex(root) },
    );
    for (const file of FILES) assert.equal(snap.entries.get(file.path)?.hash, file.hash, file.path);
    assert.deepEqual(snap.stats, { files: 2, dirs: 1, symlinks: 0, bytes: 3 });
    assert.equal([...snap.trees.keys()].at(-1), snap.rootHash, "the root tree comes last");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tree vector decodes to its entries, and re-encodes to the same bytes", () => {
  const sub = decodeTree(SUBTREE);
  assert.deepEqual(sub, [{ name: "c", kind: 0, mode: 0o600, size: 2, hash: FILES[1].hash }]);
  assert.equal(toHex(encodeTree(sub)), toHex(SUBTREE));
  const root = rootTree(blake3Hex(SUBTREE));
  assert.equal(toHex(encodeTree(decodeTree(root))), toHex(root));
  assert.throws(() => decodeTree(Uint8Array.of(0x81, 0x01, 0x02)), TypeError);
});

Deno.test("symlinks are kept as links (hash of the target), excludes and caps apply", async () => {
  const dir = await fixtureWorkspace();
  try {
    await Deno.symlink("src/main.go", `${dir}/link`);
    await Deno.mkdir(`${dir}/node_modules/x`, { recursive: true });
    await Deno.writeTextFile(`${dir}/node_modules/x/big.js`, "x".repeat(10));
    await Deno.writeTextFile(`${dir}/debug.log`, "log");
    const snap = await captureSnapshot(dir, { exclude: ["node_modules", "*.log"] });
    const link = snap.entries.get("link")!;
    assert.equal(link.kind, 2);
    assert.equal(link.hash, blake3Hex(te.encode("src/main.go")));
    assert.equal(link.size, "src/main.go".length);
    assert.equal(snap.entries.has("node_modules"), false);
    assert.equal(snap.entries.has("debug.log"), false);
    await assert.rejects(
      captureSnapshot(dir, { exclude: ["node_modules"], maxFileSize: 10 }),
      (e: unknown) =>
        e instanceof FsTreeError && e.code === "TooLarge" && e.message.includes("script.sh is") &&
        e.message.includes("10-byte cap"),
    );
    await assert.rejects(
      captureSnapshot(dir, { maxFiles: 2 }),
      (e: unknown) => e instanceof FsTreeError && e.code === "TooMany",
    );
    await assert.rejects(
      captureSnapshot(`${dir}/README.md`),
      (e: unknown) => e instanceof FsTreeError && e.code === "NotADirectory",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a snapshot uploads, attaches to a turn, browses over HTTP, and a second one uploads only what changed", async () => {
  const dir = await fixtureWorkspace();
  await using peer = await startPeer();
  await using store = await openCxdbStore(peer.url);
  try {
    const first = await captureSnapshot(dir);
    const up1 = await uploadSnapshot(store, first);
    assert.equal(up1.uploaded, 6, "4 files + 2 trees");
    assert.equal(up1.newOnServer, 6);
    const ctx = await store.createContext();
    const turn = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode("with fs"),
      fsRootHash: first.rootHash,
    });
    const later = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode("inherits"),
    });
    assert.equal(await store.getFsRoot(later.turnId), first.rootHash);
    const listing = await store.http!.listFs(later.turnId, "src");
    assert.deepEqual(listing?.entries.map((e) => e.name), ["lib.go", "main.go"]);
    assert.equal(listing?.fs_root_hash, first.rootHash);
    assert.deepEqual(
      await store.http!.readFsFile(turn.turnId, "src/main.go"),
      te.encode("package main"),
    );
    assert.equal(await store.http!.readFsFile(turn.turnId, "nope.txt"), undefined);

    await Deno.writeTextFile(`${dir}/src/main.go`, "package main // changed");
    await Deno.writeTextFile(`${dir}/NEW.md`, "new");
    await Deno.remove(`${dir}/script.sh`);
    const second = await captureSnapshot(dir);
    assert.deepEqual(diffSnapshots(first, second), {
      added: ["NEW.md"],
      removed: ["script.sh"],
      modified: ["src/main.go"],
    });
    assert.deepEqual(diffSnapshots(second, second), { added: [], removed: [], modified: [] });
    const up2 = await uploadSnapshot(store, second, { previous: first });
    assert.equal(up2.uploaded, 4, "NEW.md, main.go, src tree, root tree");
    assert.equal(up2.skipped, 2, "README.md and lib.go were already there");
    const t3 = await store.appendTurn({
      contextId: ctx.contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: te.encode("second"),
    });
    await store.attachFs(t3.turnId, second.rootHash);
    assert.equal(await store.getFsRoot(t3.turnId), second.rootHash);
    assert.deepEqual(await store.http!.readFsFile(t3.turnId, "NEW.md"), te.encode("new"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
