// Timers past setTimeout's 2^31 − 1 ms limit wait instead of firing at once.
import assert from "node:assert/strict";
import { afterDelay, MAX_TIMER_MS, timeoutSignal } from "./timers.ts";

Deno.test("afterDelay: a delay longer than one setTimeout holds does not fire at once; a short one fires", async () => {
  let long = false;
  const cancelLong = afterDelay(30 * 24 * 3600 * 1000, () => long = true);
  let short = false;
  afterDelay(5, () => short = true);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(short, true);
  assert.equal(long, false, "a 30-day timer fired within 40 ms");
  cancelLong();
  assert.ok(30 * 24 * 3600 * 1000 > MAX_TIMER_MS);
});

Deno.test("timeoutSignal: aborts with a TimeoutError after its delay; clear() stops it", async () => {
  const fires = timeoutSignal(5);
  const never = timeoutSignal(5);
  never.clear();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(fires.signal.aborted, true);
  assert.equal((fires.signal.reason as DOMException).name, "TimeoutError");
  assert.equal(never.signal.aborted, false);
  const long = timeoutSignal(40 * 24 * 3600 * 1000);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(long.signal.aborted, false);
  long.clear();
});
