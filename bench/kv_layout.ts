/**
 * Not a figure: what Deno KV itself charges, in the kv bench's 64-writer case
 * (bench/kv.bench.ts, "64 writers × 10 KB"), for each part of the store's
 * layout. One commit per round of 64 turns of 10 KB, as the store's group
 * commit makes them (its commits per append there are ~0.017), in six raw
 * shapes, beside the kv store and the fs store (group commit) appending the
 * same turns from 64 writers, alternated round by round:
 *
 * - `bare`: 64 sets of the 10 KB payload at rising keys (the kv bench's
 *   "ceiling": the most a store on Deno KV could reach);
 * - `rising rows`: bare, plus a 120-byte row per turn at rising keys;
 * - `context rows`: bare, plus a 120-byte row per turn under its writer's
 *   context (`[…, writer, depth]`), as the store's turn rows are keyed so a
 *   history page is one range read;
 * - `context rows + checks`: that, plus a check per turn that the slot above
 *   is empty — the shape of the store's own commits (the store also writes a
 *   run row per turn, at rising keys);
 * - `packed bodies`: the payloads six to a row (fewer, larger values);
 * - `log + heads`: a layout the store does not have (yet): bare, plus the
 *   120-byte row at rising keys (turns keyed by id, a log), plus one 40-byte
 *   head row per context at `[…, writer]` (contexts made together sit side
 *   by side) checked against the versionstamp of the commit that wrote it
 *   last: a per-context check without a row under each context per turn.
 *
 * `deno run --unstable-kv --allow-read --allow-write --allow-env bench/kv_layout.ts [rounds]`
 *
 * @module
 */
import { openFsStore, openKvStore } from "../turnstore/mod.ts";
import { createKvFile } from "../turnstore/kv/new_file.ts";
import { concurrentOpsPerSecond } from "./harness.ts";

const WRITERS = 64;
const PER_WRITER = 60;
const TURNS = WRITERS * PER_WRITER;
const payload = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
const row = new Uint8Array(120).fill(7);

type Shape =
  | "bare"
  | "rising rows"
  | "context rows"
  | "context rows + checks"
  | "packed bodies"
  | "log + heads";
const SHAPES: Shape[] = [
  "bare",
  "rising rows",
  "context rows",
  "context rows + checks",
  "packed bodies",
  "log + heads",
];
const head = new Uint8Array(40).fill(9);

/** One raw shape on its own KV file, committing a round of 64 turns at a time. */
class RawShape {
  #next = 0;
  readonly #depth = new Array<number>(WRITERS).fill(0);
  /** Versionstamp of the commit that last wrote each writer's head ("log + heads"). */
  readonly #heads = new Array<string | null>(WRITERS).fill(null);
  constructor(readonly shape: Shape, readonly kv: Deno.Kv) {}

  /** Commits PER_WRITER rounds; the wall time in ms. */
  async rounds(): Promise<number> {
    const start = performance.now();
    for (let r = 0; r < PER_WRITER; r++) {
      const op = this.kv.atomic();
      if (this.shape === "packed bodies") {
        for (let w = 0; w < WRITERS; w += 6) {
          const n = Math.min(6, WRITERS - w);
          const values = new Uint8Array(n * payload.length);
          for (let j = 0; j < n; j++) values.set(payload, j * payload.length);
          op.set(["packed", this.#next], values);
          this.#next += n;
        }
      } else {
        for (let w = 0; w < WRITERS; w++) {
          const id = this.#next++;
          op.set(["body", id], payload);
          if (this.shape === "rising rows" || this.shape === "log + heads") {
            op.set(["row", id], row);
          }
          if (this.shape === "log + heads") {
            op.check({ key: ["head", w], versionstamp: this.#heads[w] });
            op.set(["head", w], head);
          }
          if (this.shape.startsWith("context rows")) {
            const depth = ++this.#depth[w];
            op.set(["turn", w, depth], row);
            if (this.shape === "context rows + checks") {
              op.check({ key: ["turn", w, depth + 1], versionstamp: null });
            }
          }
        }
      }
      const result = await op.commit();
      if (!result.ok) throw new Error(`${this.shape}: commit failed`);
      if (this.shape === "log + heads") this.#heads.fill(result.versionstamp);
    }
    return performance.now() - start;
  }
}

const rounds = Number(Deno.args[0] ?? 4);
const dir = await Deno.makeTempDir({ prefix: "bench-kv-layout-" });
try {
  const raws = SHAPES.map((shape, i) => {
    createKvFile(`${dir}/raw${i}.kv`);
    return { shape, kv: Deno.openKv(`${dir}/raw${i}.kv`) };
  });
  const shapes = await Promise.all(raws.map(async (r) => new RawShape(r.shape, await r.kv)));
  await using kvStore = await openKvStore(`${dir}/store.kv`);
  await using fsStore = await openFsStore(`${dir}/fs?durability=group`);
  const kvContexts = await Promise.all(
    Array.from({ length: WRITERS }, () => kvStore.createContext()),
  );
  const fsContexts = await Promise.all(
    Array.from({ length: WRITERS }, () => fsStore.createContext()),
  );
  const append =
    (store: typeof kvStore | typeof fsStore, ids: string[]) => (_: number, w: number) =>
      store.appendTurn({ contextId: ids[w], typeId: "bench.turn", typeVersion: 1, payload });
  const stores = [
    { name: "kv store", append: append(kvStore, kvContexts.map((c) => c.contextId)) },
    { name: "fs store (group)", append: append(fsStore, fsContexts.map((c) => c.contextId)) },
  ];
  const timeStore = async (a: (i: number, w: number) => Promise<unknown>) =>
    TURNS / await concurrentOpsPerSecond(TURNS, WRITERS, a) * 1000;

  // Warm up every side, then alternate so drift hits each alike.
  for (const s of shapes) await s.rounds();
  for (const s of stores) await timeStore(s.append);
  const ms = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const s of shapes) ms.set(s.shape, (ms.get(s.shape) ?? 0) + await s.rounds());
    for (const s of stores) ms.set(s.name, (ms.get(s.name) ?? 0) + await timeStore(s.append));
  }
  const rate = (name: string) => TURNS * rounds / (ms.get(name)! / 1000);
  const fs = rate("fs store (group)");
  const bare = rate("bare");
  console.log(`${WRITERS} writers × ${PER_WRITER} turns of 10 KB, ${rounds} alternating rounds`);
  for (const name of ms.keys()) {
    console.log(
      `${name.padEnd(24)} ${rate(name).toFixed(0).padStart(6)} turns/s  ` +
        `${(rate(name) / bare).toFixed(3)} of bare  ${(rate(name) / fs).toFixed(3)} of fs`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
