import assert from "node:assert/strict";
import { RETRY_PRESETS } from "./retry.ts";
import { HANDLER_ATTRIBUTE_VALUES } from "../graph/build.ts";

Deno.test("lint accepts exactly the retry_policy names the engine has presets for", () => {
  // The graph layer does not import the engine, so the names are written twice: they must agree.
  assert.deepEqual(
    [...HANDLER_ATTRIBUTE_VALUES.retry_policy].sort(),
    Object.keys(RETRY_PRESETS).sort(),
  );
});
