import assert from "node:assert/strict";
import { agentIdempotencyKey } from "./keys.ts";

Deno.test("agent keys are length-prefixed: session, write number, event", () => {
  assert.equal(
    agentIdempotencyKey("session-1", 7, "assistant_completion"),
    "forge-agent:v1|9:session-1|7|20:assistant_completion",
  );
  assert.notEqual(agentIdempotencyKey("a|1", 2, "b"), agentIdempotencyKey("a", 1, "|2|b"));
});

Deno.test("agent keys stay right when the session changes between calls", () => {
  assert.equal(agentIdempotencyKey("sé", 3, "ev"), "forge-agent:v1|3:sé|3|2:ev");
  assert.equal(agentIdempotencyKey("other", 4, "ev"), "forge-agent:v1|5:other|4|2:ev");
  assert.equal(agentIdempotencyKey("sé", 5, "日"), "forge-agent:v1|3:sé|5|3:日");
});
