/**
 * Reading body rows: the payloads of turns above `BODY_ROW_ABOVE`, stored at
 * `["body", turnId]` (keys.ts). A page of such turns reads its body rows in
 * parallel: turns whose ids follow one another (one writer appending to one
 * context gets consecutive ids from its block) as one range read, which
 * costs about what the same rows cost in the turn table; the others with
 * `getMany`, at most ten keys a call (KV Connect's limit).
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
import { bodyKey, type TurnValue } from "./keys.ts";
import { retryBusy } from "./busy.ts";
import { LIST_BATCH, MAX_GET_MANY } from "./limits.ts";

/** Consecutive ids from this many on are read with one range read instead of point reads. */
const MIN_RANGE = 4;

/**
 * The payloads of `turns` (each with `bodyRow` set), in their order. A
 * missing body row, or one whose length is not its turn's size, is a
 * Backend error naming the turn.
 */
export async function loadBodies(
  kv: Deno.Kv,
  turns: readonly TurnValue[],
): Promise<Uint8Array[]> {
  const out = new Array<Uint8Array | undefined>(turns.length);
  const byId = [...turns.keys()].sort((a, b) =>
    turns[a].id < turns[b].id ? -1 : turns[a].id > turns[b].id ? 1 : 0
  );
  const reads: Promise<void>[] = [];
  const points: number[] = [];
  for (let start = 0; start < byId.length;) {
    let end = start + 1;
    while (end < byId.length && turns[byId[end]].id === turns[byId[end - 1]].id + 1n) end++;
    const run = byId.slice(start, end);
    if (run.length >= MIN_RANGE) reads.push(readRange(kv, turns, run, out));
    else points.push(...run);
    start = end;
  }
  for (let first = 0; first < points.length; first += MAX_GET_MANY) {
    reads.push(readPoints(kv, turns, points.slice(first, first + MAX_GET_MANY), out));
  }
  await Promise.all(reads);
  // A plain loop: map() would skip the holes that missing rows leave.
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) fail(turns[i], "missing");
  return out as Uint8Array[];
}

/** Reads the body rows of `run` (indexes of turns with consecutive ids) with one range read. */
function readRange(
  kv: Deno.Kv,
  turns: readonly TurnValue[],
  run: readonly number[],
  out: (Uint8Array | undefined)[],
): Promise<void> {
  const first = turns[run[0]].id;
  const last = turns[run[run.length - 1]].id;
  return retryBusy(async () => {
    const iter = kv.list<Uint8Array>(
      { start: bodyKey(first), end: bodyKey(last + 1n) },
      { batchSize: Math.min(run.length, LIST_BATCH) },
    );
    for await (const entry of iter) {
      const index = run[Number((entry.key[1] as bigint) - first)];
      out[index] = checked(turns[index], entry.value);
    }
  }, "reading turns");
}

/** Reads the body rows of `indexes` (at most ten) with one `getMany`. */
function readPoints(
  kv: Deno.Kv,
  turns: readonly TurnValue[],
  indexes: readonly number[],
  out: (Uint8Array | undefined)[],
): Promise<void> {
  return retryBusy(async () => {
    const entries = await kv.getMany<Uint8Array[]>(indexes.map((i) => bodyKey(turns[i].id)));
    entries.forEach((entry, j) => {
      if (entry.versionstamp !== null) out[indexes[j]] = checked(turns[indexes[j]], entry.value);
    });
  }, "reading turns");
}

function checked(turn: TurnValue, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== turn.size) fail(turn, "damaged");
  return value as Uint8Array;
}

function fail(turn: TurnValue, how: "missing" | "damaged"): never {
  throw new BackendError(`payload of turn ${turn.id}: its body row is ${how}`);
}
