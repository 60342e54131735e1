/**
 * The upstream CXDB golden vectors (strongdm/cxdb `fixtures/`, produced by its
 * Go client), as an extra check beside our own hand-assembled vectors. They
 * are not part of this repository: they are read from `../shared/cxdb-fixtures`
 * beside the checkout (or from `FORGE_CXDB_FIXTURES`). When they are absent
 * the suite registers one ignored test that says so by name, so a run without
 * them shows that this check did not run rather than passing silently.
 */
import assert from "node:assert/strict";
import { blake3Hex, decodeMsgpack, fromHex, toHex } from "@forge/turnstore";
import { defineRecord, f } from "../turnstore/records/mod.ts";
import {
  type AppendRequest,
  encodeAppend,
  encodeAttachFs,
  encodeCtxCreate,
  encodeCtxFork,
  encodeGetHead,
  encodeGetLast,
  encodeHello,
  encodePutBlob,
} from "../cxdb/protocol/wire.ts";
import { captureSnapshot } from "../cxdb/fstree/snapshot.ts";
import { decodeTree, encodeTree } from "../cxdb/fstree/tree.ts";

const given = Deno.env.get("FORGE_CXDB_FIXTURES");
const root = given
  ? new URL(`file://${given.endsWith("/") ? given : `${given}/`}`)
  : new URL("../../shared/cxdb-fixtures/", import.meta.url);
const label = given ?? "../shared/cxdb-fixtures";

function present(): boolean {
  try {
    return Deno.statSync(new URL("protocol/", root)).isDirectory;
  } catch {
    return false;
  }
}

interface ProtocolFixture {
  name: string;
  msg_type: number;
  flags: number;
  payload_hex: string;
}

const read = (path: string) => JSON.parse(Deno.readTextFileSync(new URL(path, root)));

/** Splits an APPEND_TURN fixture back into its fields. */
function appendFields(hex: string, flags: number): AppendRequest {
  const b = fromHex(hex);
  const v = new DataView(b.buffer);
  let o = 0;
  const u64 = () => (o += 8, v.getBigUint64(o - 8, true).toString());
  const u32 = () => (o += 4, v.getUint32(o - 4, true));
  const bytes = (n: number) => (o += n, b.slice(o - n, o));
  const req: AppendRequest = {
    contextId: u64(),
    parentTurnId: u64(),
    typeId: new TextDecoder().decode(bytes(u32())),
    typeVersion: u32(),
    encoding: u32(),
    compression: u32(),
    uncompressedLength: u32(),
    contentHash: toHex(bytes(32)),
    payload: bytes(u32()),
    idempotencyKey: new TextDecoder().decode(bytes(u32())) || undefined,
    fsRootHash: flags & 1 ? toHex(bytes(32)) : undefined,
  };
  assert.equal(o, b.length, "the fixture is fully accounted for");
  return req;
}

/** Each upstream protocol fixture beside the encoder call that must reproduce it. */
const protocolChecks: Record<
  string,
  (fx: ProtocolFixture) => { flags: number; payload: Uint8Array }
> = {
  hello_empty: () => ({ flags: 0, payload: encodeHello() }),
  hello_tag: () => ({ flags: 0, payload: encodeHello("test-client") }),
  ctx_create_base0: () => ({ flags: 0, payload: encodeCtxCreate("0") }),
  ctx_fork_base123: () => ({ flags: 0, payload: encodeCtxFork("123") }),
  get_head_ctx42: () => ({ flags: 0, payload: encodeGetHead("42") }),
  get_last_default: () => ({ flags: 0, payload: encodeGetLast("1", 10, false) }),
  get_last_payload: () => ({ flags: 0, payload: encodeGetLast("1", 5, true) }),
  append_parent0: (fx) => encodeAppend(appendFields(fx.payload_hex, fx.flags)),
  append_parent7: (fx) => encodeAppend(appendFields(fx.payload_hex, fx.flags)),
  append_idempotent: (fx) => encodeAppend(appendFields(fx.payload_hex, fx.flags)),
  append_with_fs: (fx) => encodeAppend(appendFields(fx.payload_hex, fx.flags)),
  attach_fs: () => ({ flags: 0, payload: encodeAttachFs("99", "aa".repeat(32)) }),
  put_blob: (fx) => ({
    flags: 0,
    payload: encodePutBlob(fx.payload_hex.slice(0, 64), new TextEncoder().encode("hello blob")),
  }),
};

if (!present()) {
  Deno.test({
    name: `upstream CXDB vectors (not present: ${label})`,
    ignore: true,
    fn() {},
  });
} else {
  Deno.test(`upstream CXDB vectors (${label}): every protocol fixture has a check`, () => {
    const names = [...Deno.readDirSync(new URL("protocol/", root))]
      .filter((e) => e.name.endsWith(".json")).map((e) => e.name.slice(0, -5)).sort();
    assert.ok(names.length > 0);
    assert.deepEqual(names, Object.keys(protocolChecks).sort());
  });

  Deno.test(`upstream CXDB vectors (${label}): every request encodes byte for byte as the Go client does`, () => {
    for (const name of Object.keys(protocolChecks)) {
      const fx = read(`protocol/${name}.json`) as ProtocolFixture;
      const { flags, payload } = protocolChecks[name](fx);
      assert.equal(toHex(payload), fx.payload_hex, name);
      assert.equal(flags, fx.flags, `${name} flags`);
      if (fx.msg_type === 5) {
        const req = appendFields(fx.payload_hex, fx.flags);
        assert.equal(req.contentHash, blake3Hex(req.payload), `${name}: hash is BLAKE3 of payload`);
      }
    }
  });

  Deno.test(`upstream CXDB vectors (${label}): msgpack with string and uint64 keys decodes`, () => {
    const item = read("types/msgpack_conversation_item.json");
    const Item = defineRecord({
      typeId: "cxdb.ConversationItem",
      version: 3,
      fields: {
        itemType: f.string(1),
        status: f.string(2),
        createdAt: f.unixMs(3),
        id: f.string(4),
      },
    });
    assert.deepEqual(Item.decode(fromHex(item.payload_hex)), {
      itemType: "user_input",
      status: "complete",
      createdAt: 0x18bcfe56800,
      id: "item-1",
    });
    const numeric = read("types/msgpack_numeric_map.json");
    assert.deepEqual(decodeMsgpack(fromHex(numeric.payload_hex)), {
      1: "one",
      2: "two",
      3: "three",
    });
  });

  Deno.test(`upstream CXDB vectors (${label}): the fstree workspace hashes to the same trees`, async () => {
    const fx = read("fstree/fstree_basic.json");
    const te = new TextEncoder();
    assert.equal(blake3Hex(new Uint8Array()), fx.blake3.empty);
    assert.equal(blake3Hex(te.encode("hello")), fx.blake3.hello);
    const dir = await Deno.makeTempDir({ prefix: "fstree-upstream-" });
    try {
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
      const snap = await captureSnapshot(dir);
      assert.equal(snap.rootHash, fx.root_hash_hex);
      assert.deepEqual(
        Object.fromEntries([...snap.trees].map(([h, b]) => [h, toHex(b)])),
        fx.trees,
      );
      for (const [path, hash] of Object.entries(fx.files)) {
        assert.equal(snap.entries.get(path)?.hash, hash, path);
      }
      for (const hex of Object.values(fx.trees) as string[]) {
        assert.equal(toHex(encodeTree(decodeTree(fromHex(hex)))), hex);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
