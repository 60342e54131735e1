/**
 * Seeded, time-bounded fuzzing of the parsers that read bytes from outside:
 * the record decoder (msgpack → typed record), the CXDB frame parser and
 * response decoders, and the fs store's log and index readers. Inputs are
 * random bytes, mutations of valid inputs, very deep nesting and very large
 * sizes. Each must end in a value or a typed error — no other exception, no
 * crash, no hang (every target has a time budget, and each input must finish
 * well within it).
 *
 * FORGE_FUZZ_SEED replays a run; FORGE_FUZZ_MS sets each target's budget
 * (default 1500 ms). A failure names the seed and the input's hex.
 */
import assert from "node:assert/strict";
import { isTurnStoreError, toHex } from "@forge/turnstore";
import { AGENT_RECORD_TYPES } from "../agent/records.ts";
import { ATTRACTOR_RECORD_TYPES } from "../attractor/records.ts";
import type { CompiledRecordType } from "../turnstore/records/record.ts";
import {
  decodeAppended,
  decodeError,
  decodeHead,
  decodeHello,
  decodePutBlob,
  decodeTurns,
  FrameParser,
  WireError,
} from "../cxdb/protocol/wire.ts";
import { readWireValue } from "../cxdb/testing/msgpack_view.ts";
import { MsgpackViewError } from "../cxdb/testing/msgpack_view.ts";
import { FsStore } from "../turnstore/fs/store.ts";

const seed = Number(Deno.env.get("FORGE_FUZZ_SEED") ?? Date.now() % 2_147_483_647);
const budgetMs = Number(Deno.env.get("FORGE_FUZZ_MS") ?? 1500);

function random(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes, varied: random, mutations of `seeds`, deep nesting, huge declared sizes. */
function inputs(next: () => number, seeds: Uint8Array[]): () => Uint8Array {
  const int = (n: number) => Math.floor(next() * n);
  return () => {
    const kind = int(6);
    if (kind === 0) return Uint8Array.from({ length: int(64) }, () => int(256));
    if (kind === 1 || kind === 2) {
      const out = seeds[int(seeds.length)].slice();
      for (let m = 1 + int(4); m > 0 && out.length > 0; m--) {
        const at = int(out.length);
        const op = int(3);
        if (op === 0) out[at] = int(256);
        else if (op === 1) out[at] ^= 1 << int(8);
        else return out.subarray(0, at); // truncated
      }
      return out;
    }
    if (kind === 3) {
      // Very deep nesting: arrays or maps inside each other.
      const depth = 1000 + int(200_000);
      const open = int(2) === 0 ? 0x91 : 0x81;
      const out = new Uint8Array(depth * (open === 0x81 ? 2 : 1) + 1);
      for (let i = 0, o = 0; i < depth; i++) {
        if (open === 0x81) out[o++] = 0x01;
        out[o++] = open;
      }
      return out;
    }
    if (kind === 4) {
      // Huge declared sizes: str32/bin32/array32/map32 headers claiming ~4 GiB, or u32 counts.
      const code = [0xdb, 0xc6, 0xdd, 0xdf][int(4)];
      return Uint8Array.of(0x81, 0x01, code, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3);
    }
    // A large input: a few MiB of a valid seed repeated.
    const s = seeds[int(seeds.length)];
    const out = new Uint8Array(Math.min(8 << 20, s.length * (1000 + int(20_000))));
    for (let o = 0; o + s.length <= out.length; o += s.length) out.set(s, o);
    return out;
  };
}

/** Runs `target` on generated inputs until the budget is spent; `typed` says which errors are fine. */
function fuzz(
  name: string,
  seeds: Uint8Array[],
  target: (input: Uint8Array) => void,
  typed: (error: unknown) => boolean,
): { runs: number; errors: number } {
  const next = random(seed ^ name.length * 2654435761);
  const make = inputs(next, seeds);
  const deadline = performance.now() + budgetMs;
  let runs = 0;
  let errors = 0;
  while (performance.now() < deadline) {
    const input = make();
    const started = performance.now();
    try {
      target(input);
    } catch (error) {
      errors++;
      if (!typed(error)) {
        throw new Error(
          `${name}, seed ${seed}: untyped ${error} for input ${toHex(input.subarray(0, 64))}${
            input.length > 64 ? `… (${input.length} bytes)` : ""
          }`,
          { cause: error },
        );
      }
    }
    const took = performance.now() - started;
    assert.ok(took < 2000, `${name}, seed ${seed}: one input took ${took.toFixed(0)} ms`);
    runs++;
  }
  return { runs, errors };
}

const RECORDS = [...AGENT_RECORD_TYPES, ...ATTRACTOR_RECORD_TYPES] as CompiledRecordType<never>[];

Deno.test(`fuzz: the record decoder gives a record or an InvalidInput error (seed ${seed})`, () => {
  const seeds = RECORDS.flatMap((type) => {
    // A valid encoding of each record, built from its own decode of a minimal map.
    try {
      return [type.encode(type.validate({}) as never)];
    } catch {
      return [];
    }
  });
  seeds.push(Uint8Array.of(0x81, 0x01, 0xa1, 0x78), Uint8Array.of(0x80));
  let i = 0;
  const { runs } = fuzz(
    "record decoder",
    seeds,
    (input) => void RECORDS[i++ % RECORDS.length].decode(input),
    (error) => isTurnStoreError(error, "InvalidInput"),
  );
  assert.ok(runs > 50, `${runs} inputs`);
});

Deno.test(`fuzz: the typed msgpack view gives a value or a Malformed error (seed ${seed})`, () => {
  const { runs } = fuzz(
    "msgpack view",
    [Uint8Array.of(
      0x82,
      0x01,
      0xcf,
      0,
      0,
      1,
      0x9b,
      0x69,
      0x68,
      0x46,
      0x00,
      0x02,
      0x92,
      0xc3,
      0xc0,
    )],
    (input) => void readWireValue(input),
    (error) => error instanceof MsgpackViewError,
  );
  assert.ok(runs > 50, `${runs} inputs`);
});

Deno.test(`fuzz: the CXDB frame parser and response decoders give frames or WireErrors (seed ${seed})`, () => {
  const frame = (type: number, payload: number[]) => {
    const out = new Uint8Array(16 + payload.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, payload.length, true);
    v.setUint16(4, type, true);
    v.setBigUint64(8, 7n, true);
    out.set(payload, 16);
    return out;
  };
  const seeds = [
    frame(4, [...new Uint8Array(20)]),
    frame(6, [1, 0, 0, 0, ...new Uint8Array(100)]),
    frame(255, [0xa6, 1, 0, 0, 2, 0, 0, 0, 0x6e, 0x6f]),
  ];
  const decoders = [
    decodeHead,
    decodeAppended,
    (p: Uint8Array) => decodeTurns(p, true),
    (p: Uint8Array) => decodeTurns(p, false),
    decodeError,
    decodePutBlob,
    decodeHello,
  ];
  const { runs } = fuzz(
    "frame parser",
    seeds,
    (input) => {
      const parser = new FrameParser();
      let frames = 0;
      // Fed in pieces, as a socket delivers them: small ones, or 64 KiB reads of a large input.
      const piece = (at: number) => (input.length > 4096 ? 65536 : 1 + (at % 7));
      for (let at = 0; at < input.length; at += piece(at)) {
        parser.push(input.subarray(at, at + piece(at)));
        for (let f = parser.next(); f; f = parser.next()) {
          // Every decoder on the first frames; past those, parsing alone (time goes to input size).
          if (++frames > 64) continue;
          for (const decode of decoders) {
            try {
              decode(f.payload);
            } catch (error) {
              if (!(error instanceof WireError)) throw error;
            }
          }
        }
      }
    },
    (error) => error instanceof WireError,
  );
  assert.ok(runs > 50, `${runs} inputs`);
});

Deno.test(`fuzz: the fs store's log and index readers give data or BackendErrors, never wrong bytes (seed ${seed})`, async () => {
  const next = random(seed ^ 0x5eed);
  const int = (n: number) => Math.floor(next() * n);
  const dir = await Deno.makeTempDir({ prefix: "forge-fuzz-fs-" });
  try {
    // A valid store to mutate.
    const base = `${dir}/base`;
    const store = await FsStore.open(`${base}?durability=none`);
    const ctx = (await store.createContext()).contextId;
    const payloads = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      const t = await store.appendTurn({
        contextId: ctx,
        typeId: "test.fuzz",
        typeVersion: 1,
        payload: new TextEncoder().encode(`payload ${i}`),
        idempotencyKey: i % 3 === 0 ? `k${i}` : undefined,
      });
      payloads.set(t.turnId, `payload ${i}`);
    }
    await store.close();
    const files = ["log", "turns.idx", "contexts.idx", "keys.idx", "checkpoint", "roots.idx"];
    const originals = new Map<string, Uint8Array>();
    for (const f of files) {
      originals.set(f, await Deno.readFile(`${base}/${f}`).catch(() => new Uint8Array()));
    }
    const deadline = performance.now() + budgetMs * 2;
    let runs = 0;
    let typed = 0;
    while (performance.now() < deadline) {
      const at = `${dir}/r${runs}`;
      await Deno.mkdir(at);
      for (const [f, bytes] of originals) {
        let out = bytes.slice();
        if (int(3) === 0 && out.length > 0) {
          const mode = int(4);
          if (mode === 0) out = out.subarray(0, int(out.length)); // truncated
          else if (mode === 1) {
            for (let m = 0; m < 1 + int(8); m++) out[int(out.length)] = int(256);
          } else if (mode === 2) out = Uint8Array.from({ length: int(4096) }, () => int(256));
          else out = new Uint8Array(0);
        }
        await Deno.writeFile(`${at}/${f}`, out);
      }
      try {
        const s = await FsStore.open(`${at}?durability=none`);
        try {
          for (
            const call of [
              async () => {
                for (const t of await s.listTurns(ctx, { limit: 100 })) {
                  const want = payloads.get(t.turnId);
                  if (want !== undefined) {
                    assert.equal(new TextDecoder().decode(t.payload), want, `seed ${seed}: bytes`);
                  }
                }
              },
              async () => {
                const id = [...payloads.keys()][int(payloads.size)];
                const t = await s.getTurn(id);
                assert.equal(new TextDecoder().decode(t.payload), payloads.get(id), `seed ${seed}`);
              },
              () => s.getHead(ctx),
              () =>
                s.appendTurn({
                  contextId: ctx,
                  typeId: "test.fuzz",
                  typeVersion: 1,
                  payload: new TextEncoder().encode("payload 0"),
                  idempotencyKey: "k0",
                }),
            ]
          ) {
            try {
              await call();
            } catch (error) {
              if (error instanceof assert.AssertionError) throw error;
              assert.ok(isTurnStoreError(error), `seed ${seed}, run ${runs}: untyped ${error}`);
              typed++;
            }
          }
        } finally {
          await s.close().catch((error) => {
            assert.ok(isTurnStoreError(error), `seed ${seed}: close: untyped ${error}`);
          });
        }
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        assert.ok(isTurnStoreError(error, "Backend"), `seed ${seed}, run ${runs}: open: ${error}`);
        typed++;
      }
      await Deno.remove(at, { recursive: true });
      runs++;
    }
    assert.ok(runs > 5, `${runs} damaged stores`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
