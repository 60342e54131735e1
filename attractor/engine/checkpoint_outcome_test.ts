import assert from "node:assert/strict";
import type { CheckpointOutcome } from "./checkpoint.ts";
import { CheckpointOutcomes } from "./checkpoint_outcome.ts";

Deno.test("an outcome's checkpoint form is built once and serializes without empty fields", () => {
  const forms = new CheckpointOutcomes();
  const outcome = { status: "success" as const, notes: "", failureReason: "x" };
  const form = forms.form(outcome, "a");
  assert.equal(forms.form(outcome, "a"), form);
  assert.equal(JSON.stringify(form), '{"status":"success","failure_reason":"x"}');
  const next = { status: "fail" as const };
  assert.notEqual(forms.form(next, "a"), form, "a new outcome of the node gets a new form");
});

Deno.test("a resumed outcome keeps the checkpoint's own object when it is what the engine writes", () => {
  const forms = new CheckpointOutcomes();
  const parsed = JSON.parse(
    '{"status":"fail","notes":"n","failure_reason":"r","suggested_next_ids":["a"]}',
  ) as CheckpointOutcome;
  const outcome = forms.adopt(parsed, "b");
  assert.equal(outcome.failureReason, "r");
  assert.deepEqual(outcome.suggestedNextIds, ["a"]);
  assert.equal(forms.form(outcome, "b"), parsed, "adopted by reference");
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
    const forms = new CheckpointOutcomes();
    const parsed = JSON.parse(text) as CheckpointOutcome;
    const outcome = forms.adopt(parsed, "c");
    const form = forms.form(outcome, "c");
    assert.notEqual(form, parsed, text);
    assert.equal(
      JSON.stringify(form),
      JSON.stringify(new CheckpointOutcomes().form({ ...outcome }, "c")),
      text,
    );
  }
});
