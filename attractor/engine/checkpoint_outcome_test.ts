import assert from "node:assert/strict";
import type { CheckpointOutcome } from "./checkpoint.ts";
import { checkpointOutcome, outcomeFromCheckpoint } from "./checkpoint_outcome.ts";

Deno.test("an outcome's checkpoint form is built once and serializes without empty fields", () => {
  const outcome = { status: "success" as const, notes: "", failureReason: "x" };
  const form = checkpointOutcome(outcome);
  assert.equal(checkpointOutcome(outcome), form);
  assert.equal(JSON.stringify(form), '{"status":"success","failure_reason":"x"}');
});

Deno.test("a resumed outcome keeps the checkpoint's own object when it is what the engine writes", () => {
  const parsed = JSON.parse(
    '{"status":"fail","notes":"n","failure_reason":"r","suggested_next_ids":["a"]}',
  ) as CheckpointOutcome;
  const outcome = outcomeFromCheckpoint(parsed);
  assert.equal(outcome.failureReason, "r");
  assert.deepEqual(outcome.suggestedNextIds, ["a"]);
  assert.equal(checkpointOutcome(outcome), parsed, "adopted by reference");
});

Deno.test("a hand-edited outcome (extra field, other order, empty value) gets a form of its own", () => {
  for (
    const text of [
      '{"status":"success","extra":1}',
      '{"notes":"n","status":"success"}',
      '{"status":"success","notes":""}',
      '{"status":"success","suggested_next_ids":[]}',
    ]
  ) {
    const parsed = JSON.parse(text) as CheckpointOutcome;
    const form = checkpointOutcome(outcomeFromCheckpoint(parsed));
    assert.notEqual(form, parsed, text);
    assert.equal(
      JSON.stringify(form),
      JSON.stringify(checkpointOutcome({ ...outcomeFromCheckpoint(parsed) })),
      text,
    );
  }
});
