/**
 * What a stage changed in the checkpoint, as a small JSON document, and how
 * to apply it: the delta a `checkpoint_saved` v5 record carries between full
 * states. A checkpoint is mostly append-only lists (`completed_nodes`, `logs`)
 * and per-node maps (`node_outcomes`, `node_retries`, `node_visits`,
 * `node_executions`, the context), of which a stage touches a few entries, so
 * a delta is O(the stage's changes), not O(the run).
 *
 * The delta is exact: applying it to the previous checkpoint gives an object
 * that serializes to the same JSON text as the new one, map key order
 * included (a resumed engine rebuilds its maps in that order, and goal gates
 * are checked in it). When a map's order changed in a way a delta cannot say
 * (a key moved), the delta replaces that map whole.
 *
 * ```json
 * { "set": { "current_node": "b", "stage_index": 12 }, "unset": ["next_edge"],
 *   "append": { "completed_nodes": { "keep": 11, "add": ["b"] } },
 *   "maps": { "node_outcomes": { "set": { "b": { "status": "success" } }, "delete": [] } } }
 * ```
 *
 * @module
 */
import { CheckpointError } from "../engine/checkpoint.ts";

/** A JSON object as plain data. */
type JsonObject = Record<string, unknown>;

/** What changed in one top-level map of the checkpoint. */
export interface MapDelta {
  /** Keys added or changed, with their new values (new keys in their order). */
  readonly set: JsonObject;
  /** Keys removed. */
  readonly delete: readonly string[];
}

/** What changed between two checkpoints (their JSON forms). */
export interface CheckpointDelta {
  /** Top-level fields whose value is replaced whole (scalars, reordered maps, rewritten lists). */
  readonly set: JsonObject;
  /** Top-level fields removed. */
  readonly unset: readonly string[];
  /** Lists that kept their first `keep` items and gained `add`. */
  readonly append: Readonly<Record<string, { readonly keep: number; readonly add: unknown[] }>>;
  /** Maps that changed some entries. */
  readonly maps: Readonly<Record<string, MapDelta>>;
}

function isPlainObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Equal as JSON text: the same reference or primitive, else the same defined
 * keys in the same order with values equal as JSON, or lists of equal items.
 * Compared structurally, not by serialising: the first checkpoint after a
 * resume compares every outcome parsed from the store with the engine's own.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const x = a as JsonObject;
  const y = b as JsonObject;
  const xs = Object.keys(x);
  const ys = Object.keys(y);
  let j = 0;
  for (const key of xs) {
    if (x[key] === undefined) continue;
    while (j < ys.length && y[ys[j]] === undefined) j++;
    if (ys[j] !== key || !sameJson(x[key], y[key])) return false;
    j++;
  }
  while (j < ys.length && y[ys[j]] === undefined) j++;
  return j === ys.length;
}

/**
 * Keys and values of the maps last diffed: the next stage's diff takes this
 * stage's `next` as its `prev`, so each map is enumerated once per stage.
 * (A large object built key by key is a hash table to V8; enumerating it is
 * the diff's main cost.) Checkpoint objects are never changed once built.
 */
const enumerated = new WeakMap<JsonObject, [string[], unknown[]]>();

function entriesOf(map: JsonObject): [string[], unknown[]] {
  let entries = enumerated.get(map);
  if (!entries) {
    entries = keysAndValues(map);
    enumerated.set(map, entries);
  }
  return entries;
}

/** Keys, then a lookup each: on a hash-table object V8's Object.values is several times slower. */
function keysAndValues<V>(map: Readonly<Record<string, V>>): [string[], V[]] {
  const keys = Object.keys(map);
  const values = new Array<V>(keys.length);
  for (let i = 0; i < keys.length; i++) values[i] = map[keys[i]];
  return [keys, values];
}

/** Whether `key` is an array index, which JavaScript objects order before every other key. */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;

/**
 * A null-prototype object of `keys` and `values`, in that order. A map of a
 * thousand node ids is a hash table to V8, and filling one that inherits
 * from `Object.prototype` costs ~5× more per key (each new key is looked up
 * on the prototype first); without a prototype, a node named
 * "constructor" or "__proto__" is an ordinary key as well. JSON, spread,
 * `Object.keys` and indexing see no difference.
 */
function nullProtoObject<V>(keys: readonly string[], values: readonly V[]): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (let i = 0; i < keys.length; i++) out[keys[i]] = values[i];
  return out;
}

/**
 * A copy of `source` (as `{ ...source }`, without a prototype), whose keys
 * and values the next {@link diffCheckpoint} then takes from here instead of
 * enumerating the copy again: the engine builds its checkpoint maps with
 * this, so a stage's delta costs a pass over two arrays, not two walks of
 * hash-table objects. The copy must not be changed afterwards.
 */
export function copyMap<V>(source: Readonly<Record<string, V>>): Record<string, V> {
  const [keys, values] = keysAndValues(source);
  const copy = nullProtoObject(keys, values);
  enumerated.set(copy, [keys, values]);
  return copy;
}

/**
 * A copy of a resumed checkpoint's map for the engine to change (without a
 * prototype, like {@link copyMap}'s), remembering the checkpoint's own keys
 * and values: the first diff after a resume compares against that map and
 * then need not enumerate it again. `base` must not be changed afterwards.
 */
export function adoptMap<V>(base: Readonly<Record<string, V>>): Record<string, V> {
  const [keys, values] = keysAndValues(base);
  enumerated.set(base as JsonObject, [keys, values]);
  return nullProtoObject(keys, values);
}

/**
 * A resumed checkpoint's map as a Map of `f(value)`, in its order,
 * remembering the checkpoint's keys and values for the first diff (as
 * {@link adoptMap}). `base` must not be changed afterwards.
 */
export function mapFromObject<V, W>(
  base: Readonly<Record<string, V>>,
  f: (value: V, key: string) => W,
): Map<string, W> {
  const [keys, values] = keysAndValues(base);
  const out = new Map<string, W>();
  for (let i = 0; i < keys.length; i++) out.set(keys[i], f(values[i], keys[i]));
  enumerated.set(base as JsonObject, [keys, values]);
  return out;
}

/**
 * An object (without a prototype) of `source`'s entries in its order, each
 * value mapped by `f`, remembered for the next diff as {@link copyMap} does
 * (unless a key is an array index: JavaScript orders those first, so the
 * diff enumerates that object itself).
 */
export function objectFromMap<V, W>(
  source: ReadonlyMap<string, V>,
  f: (value: V, key: string) => W,
): Record<string, W> {
  const keys: string[] = [];
  const values: W[] = [];
  let plain = true;
  for (const [key, value] of source) {
    // Only a key starting with a digit can be an index: skip the pattern for the rest.
    if (plain && key.charCodeAt(0) <= 57 && INDEX_KEY.test(key)) plain = false;
    keys.push(key);
    values.push(f(value, key));
  }
  const out = nullProtoObject(keys, values);
  if (plain) enumerated.set(out, [keys, values]);
  return out;
}

/**
 * The change of one map, or undefined when its key order moved (replace it
 * whole). The engine rebuilds its maps in one insertion order, so the common
 * case — the same keys in the same order, a few values changed, new keys at
 * the end — is found by comparing the key and value arrays side by side
 * (pointer compares, no per-key lookups); anything else takes the general walk.
 */
function diffMap(prev: JsonObject, next: JsonObject): MapDelta | undefined {
  const [prevKeys, prevValues] = entriesOf(prev);
  const [nextKeys, nextValues] = entriesOf(next);
  if (nextKeys.length >= prevKeys.length) {
    const set: JsonObject = {};
    let i = 0;
    for (; i < prevKeys.length; i++) {
      const a = prevValues[i];
      const b = nextValues[i];
      if (prevKeys[i] !== nextKeys[i] || a === undefined || b === undefined) break;
      if (a !== b && !sameJson(a, b)) set[nextKeys[i]] = b;
    }
    if (i === prevKeys.length) {
      for (; i < nextKeys.length; i++) {
        if (nextValues[i] === undefined) break;
        set[nextKeys[i]] = nextValues[i];
      }
      if (i === nextKeys.length) return { set, delete: [] };
    }
  }
  return diffMapSlow(prev, next);
}

/** JSON drops `undefined` fields: they count as absent. */
function definedKeys(o: JsonObject): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** {@link diffMap} when keys were deleted or are undefined: key by key. */
function diffMapSlow(prev: JsonObject, next: JsonObject): MapDelta | undefined {
  const prevKeys = definedKeys(prev);
  const nextKeys = definedKeys(next);
  const set: JsonObject = {};
  const deleted: string[] = [];
  let j = 0;
  // Kept keys must appear in `next` in their old order, before every new key.
  for (const key of prevKeys) {
    if (next[key] === undefined) {
      deleted.push(key);
      continue;
    }
    if (nextKeys[j] !== key) return undefined;
    if (!sameJson(prev[key], next[key])) set[key] = next[key];
    j++;
  }
  for (; j < nextKeys.length; j++) {
    const key = nextKeys[j];
    if (prev[key] !== undefined) return undefined;
    set[key] = next[key];
  }
  return { set, delete: deleted };
}

/** Whether `next` is `prev` with items appended (compared as references or primitives). */
function appended(prev: unknown[], next: unknown[]): boolean {
  if (next.length < prev.length) return false;
  for (let i = 0; i < prev.length; i++) if (!sameJson(prev[i], next[i])) return false;
  return true;
}

/** The delta that turns checkpoint `prev` into `next` (both as the engine builds them). */
export function diffCheckpoint(prev: object, next: object): CheckpointDelta {
  const p = prev as JsonObject;
  const n = next as JsonObject;
  const set: JsonObject = {};
  const unset: string[] = [];
  const append: Record<string, { keep: number; add: unknown[] }> = {};
  const maps: Record<string, MapDelta> = {};
  for (const key of definedKeys(p)) if (n[key] === undefined) unset.push(key);
  for (const key of definedKeys(n)) {
    const a = p[key];
    const b = n[key];
    if (Array.isArray(a) && Array.isArray(b) && appended(a, b)) {
      if (b.length > a.length) append[key] = { keep: a.length, add: b.slice(a.length) };
    } else if (isPlainObject(a) && isPlainObject(b)) {
      const change = diffMap(a, b);
      if (!change) set[key] = b;
      else if (change.delete.length || Object.keys(change.set).length) maps[key] = change;
    } else if (!sameJson(a, b)) {
      set[key] = b;
    }
  }
  return { set, unset, append, maps };
}

/**
 * Applies `delta` to the checkpoint JSON object `state` in place (its lists
 * and maps included: pass an object the caller owns, e.g. fresh from
 * `JSON.parse`) and returns it, so following a chain of deltas costs what the
 * deltas hold, not a copy of the state per delta. Throws
 * {@link CheckpointError} naming `where` when the delta does not fit its base
 * (a list shorter than it keeps, a field that is not a list or a map): a
 * damaged chain is an error, never a wrong state.
 */
export function applyCheckpointDelta(state: object, delta: unknown, where: string): JsonObject {
  if (!isPlainObject(delta)) throw new CheckpointError(`${where}: the delta is not an object`);
  const d = delta as Partial<CheckpointDelta>;
  const out = state as JsonObject;
  for (const [key, change] of Object.entries(d.append ?? {})) {
    const list = out[key];
    if (
      !Array.isArray(list) || !isPlainObject(change) || typeof change.keep !== "number" ||
      !Array.isArray(change.add) || change.keep > list.length
    ) {
      throw new CheckpointError(`${where}: the delta appends to "${key}", which does not fit`);
    }
  }
  for (const [key, change] of Object.entries(d.maps ?? {})) {
    if (!isPlainObject(out[key]) || !isPlainObject(change)) {
      throw new CheckpointError(`${where}: the delta changes "${key}", which is not a map`);
    }
  }
  // Checked whole before anything changes: a delta that does not fit leaves the state as it was.
  for (const key of d.unset ?? []) delete out[key];
  for (const [key, change] of Object.entries(d.append ?? {})) {
    const list = out[key] as unknown[];
    list.length = change.keep;
    for (const item of change.add) list.push(item);
  }
  for (const [key, change] of Object.entries(d.maps ?? {})) {
    const map = out[key] as JsonObject;
    for (const k of (change.delete as string[] | undefined) ?? []) delete map[k];
    assignOwn(map, change.set ?? {});
  }
  assignOwn(out, d.set ?? {});
  return out;
}

/** `Object.assign`, except that a "__proto__" key (a node may be named so) stays a key. */
function assignOwn(target: JsonObject, source: JsonObject): void {
  for (const key of Object.keys(source)) {
    if (key === "__proto__") {
      Object.defineProperty(target, key, {
        value: source[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      target[key] = source[key];
    }
  }
}
