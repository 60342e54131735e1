import assert from "node:assert/strict";
import type { PipelineEvent } from "@forge/attractor";
import { ProgressRenderer } from "./progress.ts";

const base = { runId: "run-1" };
/** The events of a run whose `implement` fails once and is retried, then a gate. */
function events(): PipelineEvent[] {
  return [
    { ...base, at: 0, kind: "pipeline_started", name: "Demo", id: "run-1" },
    { ...base, at: 0, kind: "stage_started", name: "plan", index: 0 },
    {
      ...base,
      at: 1200,
      kind: "stage_completed",
      name: "plan",
      index: 0,
      durationMs: 1200,
      status: "success",
    },
    { ...base, at: 1200, kind: "stage_started", name: "implement", index: 1 },
    {
      ...base,
      at: 2000,
      kind: "stage_failed",
      name: "implement",
      index: 1,
      error: "tests fail",
      willRetry: true,
    },
    {
      ...base,
      at: 2000,
      kind: "stage_retrying",
      name: "implement",
      index: 1,
      attempt: 2,
      delayMs: 200,
    },
    { ...base, at: 2200, kind: "stage_started", name: "implement", index: 1 },
  ];
}

Deno.test("progress on a terminal: a status line with the stage, its attempt, elapsed times and retries", () => {
  let now = 0;
  const out: string[] = [];
  const p = new ProgressRenderer({
    write: (t) => out.push(t),
    isTerminal: true,
    now: () => now,
    refreshMs: 0,
  });
  for (const e of events()) {
    now = e.at;
    p.onEvent(e);
  }
  now = 5200;
  assert.equal(p.statusLine(), "▸ implement · attempt 2 · 3.0s · run 5.2s · 1 retry");
  const text = out.join("");
  assert.match(text, /running Demo \(run-1\)\n/);
  assert.match(text, /✓ plan success 1\.2s\n/);
  assert.match(text, /✗ implement: tests fail \(will retry\)\n/);
  assert.match(text, /↻ implement attempt 2 in 200ms\n/);
  assert.ok(out.every((t) => t.startsWith("\r\x1b[2K")), "each write first clears the status line");
  p.onEvent({ ...base, at: 5300, kind: "pipeline_failed", error: "x", durationMs: 5300 });
  assert.equal(out.at(-1), "\r\x1b[2K", "the status line is cleared at the end");
});

Deno.test("progress when piped: nothing at all", () => {
  const out: string[] = [];
  const p = new ProgressRenderer({ write: (t) => out.push(t), isTerminal: false, refreshMs: 0 });
  for (const e of events()) p.onEvent(e);
  p.close();
  assert.deepEqual(out, []);
});

Deno.test("progress keeps the status line within the terminal's width", () => {
  const p = new ProgressRenderer({
    write: () => {},
    isTerminal: true,
    columns: 20,
    refreshMs: 0,
    now: () => 0,
  });
  p.onEvent({
    ...base,
    at: 0,
    kind: "stage_started",
    name: "a-very-long-stage-name-indeed",
    index: 0,
  });
  assert.ok(p.statusLine().length <= 19);
  assert.ok(p.statusLine().endsWith("…"));
});
