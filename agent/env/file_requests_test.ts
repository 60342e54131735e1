// The table of requests in flight: answers by id, one watchdog for every time limit.
import assert from "node:assert/strict";
import { FileRequests, STUCK_AFTER_DROP_MS } from "./file_requests.ts";
import type { FileChannel } from "./file_channel.ts";
import type { FileRequest } from "./file_service.ts";
import { EnvError } from "./types.ts";

/** A channel that records what was sent and answers nothing by itself. */
function recordingChannel(): FileChannel & { sent: FileRequest[] } {
  const sent: FileRequest[] = [];
  return { sent, send: (message) => void sent.push(message as FileRequest), terminate() {} };
}

const code = (expected: string) => (error: unknown) =>
  error instanceof EnvError && error.code === expected;

Deno.test("file requests: answers settle their own request, in any order", async () => {
  const table = new FileRequests({ limitMs: 10_000, onStuck: () => {} });
  const channel = recordingChannel();
  const a = table.post(channel, "readFile", ["a"]);
  const b = table.post(channel, "readFile", ["b"]);
  const [ra, rb] = channel.sent;
  table.answer({ id: rb.id, ok: false, error: { code: "NotFound", message: "b: not found" } });
  table.answer({ id: ra.id, ok: true, value: "content of a" });
  assert.equal(await a, "content of a");
  await assert.rejects(b, code("NotFound"));
  table.close(new EnvError("Closed", "done"));
});

Deno.test("file requests: each request times out at its own deadline, later ones keep theirs", async () => {
  const table = new FileRequests({ limitMs: 150, onStuck: () => {} });
  const channel = recordingChannel();
  const start = performance.now();
  const first = table.post(channel, "grep", []);
  const settled: number[] = [];
  first.catch(() => settled.push(performance.now() - start));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = table.post(channel, "glob", []);
  second.catch(() => settled.push(performance.now() - start));
  await assert.rejects(
    first,
    (e: EnvError) => e.code === "Timeout" && /grep timed out/.test(e.message),
  );
  await assert.rejects(second, code("Timeout"));
  assert.ok(settled[0] >= 140 && settled[0] < 240, `first timed out after ${settled[0]} ms`);
  assert.ok(
    settled[1] >= 240,
    `second timed out after ${settled[1]} ms, not at the first's deadline`,
  );
  table.close(new EnvError("Closed", "done"));
});

Deno.test("file requests: a request answered in time is not timed out by the watchdog", async () => {
  const table = new FileRequests({ limitMs: 100, onStuck: () => {} });
  const channel = recordingChannel();
  const answered = table.post(channel, "fileExists", []);
  table.answer({ id: channel.sent[0].id, ok: true, value: true });
  assert.equal(await answered, true);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const late = table.post(channel, "fileExists", []);
  table.answer({ id: channel.sent[1].id, ok: true, value: false });
  assert.equal(await late, false);
  table.close(new EnvError("Closed", "done"));
});

Deno.test("file requests: a cancelled request rejects at once; unanswered, its service counts as stuck", async () => {
  const stuck: string[] = [];
  const table = new FileRequests({ limitMs: 10_000, onStuck: (_, reason) => stuck.push(reason) });
  const channel = recordingChannel();
  const controller = new AbortController();
  const answeredLate = new AbortController();
  const dropped = table.post(channel, "grep", [], controller.signal);
  const droppedThenAnswered = table.post(channel, "glob", [], answeredLate.signal);
  controller.abort();
  answeredLate.abort();
  await assert.rejects(dropped, code("Aborted"));
  await assert.rejects(droppedThenAnswered, code("Aborted"));
  table.answer({ id: channel.sent[1].id, ok: true, value: [] }); // discarded
  await new Promise((resolve) => setTimeout(resolve, STUCK_AFTER_DROP_MS + 100));
  assert.deepEqual(stuck, ["grep did not finish after it was dropped"]);
  table.close(new EnvError("Closed", "done"));
});

Deno.test("file requests: close rejects everything in flight with its error", async () => {
  const table = new FileRequests({ limitMs: 10_000, onStuck: () => {} });
  const channel = recordingChannel();
  const pending = table.post(channel, "readFile", ["a"]);
  table.close(new EnvError("Closed", "the confined environment is closed"));
  await assert.rejects(pending, code("Closed"));
});

Deno.test("file requests: an infinite or very long limit arms no timer that fires at once", async () => {
  for (const limitMs of [Infinity, 2 ** 40]) {
    const table = new FileRequests({ limitMs, onStuck: () => {} });
    const channel = recordingChannel();
    let settled = false;
    const pending = table.post(channel, "grep", []).finally(() => settled = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, false, `limit ${limitMs}: still waiting for its answer`);
    table.answer({ id: channel.sent[0].id, ok: true, value: "done" });
    assert.equal(await pending, "done");
    table.close(new EnvError("Closed", "done"));
  }
});
