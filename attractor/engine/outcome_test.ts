// The status-file contract: what a tool or an agent may write, and what is refused by name.
import assert from "node:assert/strict";
import { MAX_CONTEXT_DEPTH, outcomeFromStatusJson, StatusFileError } from "./outcome.ts";

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

Deno.test("status.json: a context value nested past the limit is refused naming its key; at the limit it is kept", () => {
  const ok = outcomeFromStatusJson({
    outcome: "success",
    context_updates: { fine: nested(MAX_CONTEXT_DEPTH) },
  });
  assert.equal(ok.status, "success");
  assert.throws(
    () =>
      outcomeFromStatusJson({
        outcome: "success",
        context_updates: { fine: 1, deep: nested(200_000) },
      }, "s.json"),
    (e: unknown) =>
      e instanceof StatusFileError && e.code === "InvalidStatusFile" &&
      /s\.json: "context_updates\.deep" is nested deeper than 64 levels/.test(e.message),
  );
});

Deno.test("status.json: the older preferred_next_label is read as preferred_label; a bad outcome names the choices", () => {
  assert.equal(
    outcomeFromStatusJson({ outcome: "success", preferred_next_label: "go" }).preferredLabel,
    "go",
  );
  assert.throws(
    () => outcomeFromStatusJson({ outcome: "great" }),
    /"outcome" must be one of success, partial_success, retry, fail, skipped, got "great"/,
  );
});
