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

/** Equal as JSON: the same reference or primitive, else the same JSON text (small values). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** JSON drops `undefined` fields: they count as absent. */
function definedKeys(o: JsonObject): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** The change of one map, or undefined when its key order moved (replace it whole). */
function diffMap(prev: JsonObject, next: JsonObject): MapDelta | undefined {
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
 * Applies `delta` to the checkpoint JSON object `base` (not changed) and
 * returns the new one. Throws {@link CheckpointError} naming `where` when the
 * delta does not fit its base (a list shorter than it keeps, a field that is
 * not a list or a map): a damaged chain is an error, never a wrong state.
 */
export function applyCheckpointDelta(base: object, delta: unknown, where: string): JsonObject {
  if (!isPlainObject(delta)) throw new CheckpointError(`${where}: the delta is not an object`);
  const d = delta as Partial<CheckpointDelta>;
  const out: JsonObject = { ...(base as JsonObject) };
  for (const key of d.unset ?? []) delete out[key];
  for (const [key, change] of Object.entries(d.append ?? {})) {
    const list = out[key];
    if (
      !Array.isArray(list) || !isPlainObject(change) || typeof change.keep !== "number" ||
      !Array.isArray(change.add) || change.keep > list.length
    ) {
      throw new CheckpointError(`${where}: the delta appends to "${key}", which does not fit`);
    }
    out[key] = [...list.slice(0, change.keep), ...change.add];
  }
  for (const [key, change] of Object.entries(d.maps ?? {})) {
    const map = out[key];
    if (!isPlainObject(map) || !isPlainObject(change)) {
      throw new CheckpointError(`${where}: the delta changes "${key}", which is not a map`);
    }
    const next: JsonObject = { ...map };
    for (const k of (change.delete as string[] | undefined) ?? []) delete next[k];
    Object.assign(next, change.set ?? {});
    out[key] = next;
  }
  Object.assign(out, d.set ?? {});
  return out;
}
