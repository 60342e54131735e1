import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { StoreRecorder } from "./persist/store_recorder.ts";
import { recordStageEnded, recordStageStarted, type StageRef } from "./persist/run_records.ts";
import { stageTimeline } from "./query.ts";

Deno.test("the stage timeline of a 10,000-stage run pages from the head without reading the run whole", async () => {
  await using store = new MemoryStore();
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "big#1" });
  for (let i = 0; i < 10_000; i++) {
    const stage: StageRef = {
      runId: "big",
      nodeId: `n${i % 7}`,
      stageAttemptId: `n${i % 7}@${i}.1`,
      attempt: 1,
      stageIndex: i,
      handlerType: "codergen",
    };
    void recordStageStarted(recorder, stage);
    recordStageEnded(recorder, stage, "completed", { status: "success" }, { durationMs: 1 });
  }
  await recorder.settle();
  let turnsRead = 0;
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "listTurns") {
        return async (...args: Parameters<MemoryStore["listTurns"]>) => {
          const page = await target.listTurns(...args);
          turnsRead += page.length;
          return page;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const first = await stageTimeline(counting, recorder.contextId!, { limit: 50 });
  assert.equal(first.items.length, 50);
  assert.equal(first.items[0].stageIndex, 9_999);
  assert.ok(first.items.every((s) => s.state === "completed" && s.startedAt !== undefined));
  assert.ok(turnsRead < 400, `read ${turnsRead} turns for a page of 50`);
  const second = await stageTimeline(counting, recorder.contextId!, {
    limit: 50,
    before: first.nextCursor,
  });
  assert.equal(second.items[0].stageIndex, 9_949);
  assert.equal(second.items.at(-1)!.stageIndex, 9_900);
});
