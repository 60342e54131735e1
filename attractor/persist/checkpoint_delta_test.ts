import assert from "node:assert/strict";
import { CheckpointError } from "../engine/checkpoint.ts";
import {
  applyCheckpointDelta,
  copyMap,
  diffCheckpoint,
  objectFromMap,
} from "./checkpoint_delta.ts";

/** A checkpoint-shaped object after `n` stages (as the engine builds it). */
function state(n: number, extra: Record<string, unknown> = {}) {
  const nodes = Array.from({ length: n }, (_, i) => `s${i}`);
  return {
    timestamp: `2026-11-30T22:00:${String(n % 60).padStart(2, "0")}.000Z`,
    current_node: nodes.at(-1) ?? "start",
    completed_nodes: nodes,
    node_retries: Object.fromEntries(nodes.map((id) => [id, 0])),
    node_outcomes: Object.fromEntries(nodes.map((id) => [id, { status: "success", notes: id }])),
    context: { "graph.goal": "g", last: nodes.at(-1) ?? "", results: [{ id: "x", n }] },
    logs: nodes.map((id) => `ran ${id}`),
    next_node: `s${n}`,
    node_visits: Object.fromEntries(nodes.map((id) => [id, 1])),
    run_id: "r",
    stage_index: n,
    last_fidelity: undefined,
    ...extra,
  };
}

/** Applying the delta gives the same JSON text, key order included. */
function roundTrip(prev: object, next: object) {
  const delta = JSON.parse(JSON.stringify(diffCheckpoint(prev, next)));
  const base = JSON.parse(JSON.stringify(prev));
  const applied = applyCheckpointDelta(base, delta, "test");
  assert.equal(applied, base, "applied in place");
  assert.equal(JSON.stringify(applied), JSON.stringify(next));
  return delta;
}

Deno.test("a stage's delta holds only what it changed, and applies to the exact next JSON", () => {
  const delta = roundTrip(state(500), state(501));
  assert.deepEqual(delta.append.completed_nodes, { keep: 500, add: ["s500"] });
  assert.deepEqual(delta.maps.node_outcomes, {
    set: { s500: { status: "success", notes: "s500" } },
    delete: [],
  });
  assert.equal(delta.set.stage_index, 501);
  assert.deepEqual(delta.set.context, undefined, "the context map changes by entries");
  assert.deepEqual(delta.maps.context.set, { last: "s500", results: [{ id: "x", n: 501 }] });
  // Independent of the run's length: the same stage at 50 and at 5,000 stages.
  const small = JSON.stringify(diffCheckpoint(state(50), state(51))).length;
  const large = JSON.stringify(diffCheckpoint(state(5_000), state(5_001))).length;
  assert.ok(large - small < 32, `${small} vs ${large} bytes`);
});

Deno.test("fields that disappear, map entries deleted, a list rewritten and a map reordered all round-trip", () => {
  const prev = state(20, { waiting_on: "gate" });
  const next = state(21);
  delete (next.node_retries as Record<string, number>).s3;
  next.logs = ["restarted"];
  const delta = roundTrip(prev, next);
  assert.deepEqual(delta.unset, ["waiting_on"]);
  assert.deepEqual(delta.maps.node_retries.delete, ["s3"]);
  assert.deepEqual(delta.set.logs, ["restarted"]);
  // A key that moved (deleted and set again) cannot be said entry by entry: the map is replaced.
  const moved = state(21);
  const outcomes = moved.node_outcomes as Record<string, unknown>;
  const first = outcomes.s0;
  delete outcomes.s0;
  outcomes.s0 = first;
  const reordered = roundTrip(state(21), moved);
  assert.ok(reordered.set.node_outcomes, "replaced whole");
  // Undefined fields are absent, as in JSON; nothing changed, nothing said.
  const same = diffCheckpoint(state(7), { ...state(7), last_fidelity: undefined });
  assert.deepEqual(same, { set: {}, unset: [], append: {}, maps: {} });
});

Deno.test("a delta that does not fit its base is a CheckpointError naming the checkpoint", () => {
  const delta = diffCheckpoint(state(30), state(31));
  assert.throws(
    () => applyCheckpointDelta(state(10), delta, "checkpoint cp-31"),
    (e) =>
      e instanceof CheckpointError &&
      /cp-31: the delta appends to "completed_nodes"/.test(e.message),
  );
  const notAMap = { ...state(30), node_outcomes: [] };
  const before = JSON.stringify(notAMap);
  assert.throws(
    () => applyCheckpointDelta(notAMap, delta, "cp"),
    (e) => e instanceof CheckpointError && /"node_outcomes", which is not a map/.test(e.message),
  );
  assert.equal(JSON.stringify(notAMap), before, "a delta that does not fit changes nothing");
  assert.throws(
    () => applyCheckpointDelta(state(30), "nope", "cp"),
    (e) => e instanceof CheckpointError && /not an object/.test(e.message),
  );
});

Deno.test("values parsed back from JSON equal the engine's own (undefined fields absent); a reordered value is a change", () => {
  const engine = state(40, {
    node_outcomes: { s1: { status: "success", notes: "s1", failure_reason: undefined } },
  });
  const parsed = JSON.parse(JSON.stringify(engine));
  assert.deepEqual(diffCheckpoint(parsed, engine), { set: {}, unset: [], append: {}, maps: {} });
  const reordered = { ...engine, node_outcomes: { s1: { notes: "s1", status: "success" } } };
  const delta = roundTrip(parsed, reordered);
  assert.deepEqual(delta.maps.node_outcomes.set, { s1: { notes: "s1", status: "success" } });
});

Deno.test("maps the engine copies for the diff keep JavaScript's own key order, index-like and __proto__ ids included", () => {
  const source: Record<string, number> = { b: 1, "2": 2, a: 3, "10": 4 };
  const copy = copyMap(source);
  assert.deepEqual(Object.keys(copy), Object.keys({ ...source }));
  const ids = new Map<string, { n: number }>([["b", { n: 1 }], ["7", { n: 2 }], ["a", { n: 3 }]]);
  const outcomes = objectFromMap(ids, (v) => v);
  assert.equal(JSON.stringify(outcomes), JSON.stringify(Object.fromEntries(ids)));
  const odd = objectFromMap(new Map([["__proto__", 1], ["x", 2]]), (v) => v);
  assert.equal(JSON.stringify(odd), '{"__proto__":1,"x":2}');
  // A stage later: one value changed, one key added; the delta applies to the exact JSON.
  const prev = { node_visits: copyMap(source), node_outcomes: outcomes, other: odd };
  ids.set("7", { n: 5 });
  ids.set("c", { n: 6 });
  const next = {
    node_visits: copyMap({ ...source, a: 9, "3": 1 }),
    node_outcomes: objectFromMap(ids, (v) => v),
    other: objectFromMap(new Map([["__proto__", 2], ["x", 3]]), (v) => v),
  };
  roundTrip(prev, next);
});
