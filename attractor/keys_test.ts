import assert from "node:assert/strict";
import { attractorIdempotencyKey } from "./keys.ts";

Deno.test("pipeline keys are length-prefixed: run, node, attempt, kind, write number", () => {
  assert.equal(
    attractorIdempotencyKey("run", "node|x", 2, "stage", 3),
    "forge-attractor:v1|3:run|6:node|x|1:2|5:stage|3",
  );
  assert.notEqual(
    attractorIdempotencyKey("r", "a|1:b", 1, "k", 1),
    attractorIdempotencyKey("r", "a", 1, "b", 1),
  );
});
