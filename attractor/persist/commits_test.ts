import assert from "node:assert/strict";
import { MemoryStore, openKvStore } from "@forge/turnstore";
import { runDot, tempDir } from "../testing/helpers.ts";
import { scanRunRecords } from "../query.ts";
import { RunLifecycle } from "../records.ts";
import { StoreRecorder } from "./store_recorder.ts";
import { HOLD_LIMIT_MS } from "./recorder.ts";
import { attractorIdempotencyKey } from "../keys.ts";

function linear(n: number): string {
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  return `digraph L {\n start [shape=Mdiamond]\n exit [shape=Msquare]\n` +
    ids.map((id) => ` ${id} [prompt="stage ${id}"]\n`).join("") +
    ` start -> ${ids.join(" -> ")} -> exit\n}\n`;
}

const initialized = (runId: string) => ({
  runId,
  graphId: "G",
  lineageAttempt: 1,
  kind: "initialized" as const,
  at: 1,
  dotSourceHash: "0".repeat(64),
});

Deno.test("a stage's records (started, ended, route, checkpoint) share one KV commit", async () => {
  await using dir = await tempDir();
  let commits = 0;
  await using store = await openKvStore(`${dir.path}/forge.kv`, { onCommit: () => commits++ });
  const stages = 30;
  let atFirstStage = 0;
  const result = await runDot(linear(stages), `${dir.path}/run`, {
    store,
    persistence: "required",
    onEvent: (e) => {
      if (e.kind === "stage_started" && e.name === "s0") atFirstStage = commits;
    },
  });
  assert.equal(result.status, "success");
  const perStage = (commits - atFirstStage) / stages;
  // Four records a stage; they were three commits a stage before they were held together.
  // A stage slower than the hold limit (a loaded machine) may release its `started` early.
  assert.ok(perStage <= 1.5, `${perStage.toFixed(2)} commits per stage`);
  const checkpoints = [];
  for await (const e of scanRunRecords(store, result.contextIds[0])) {
    if (e.typeId.endsWith("checkpoint_saved")) checkpoints.push(e);
  }
  assert.equal(
    checkpoints.length,
    stages + 2,
    "every stage's checkpoint, start's and the final one",
  );
});

Deno.test("a held record is released when its turn id is asked for", async () => {
  await using store = new MemoryStore();
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  const head = (await store.getHead(recorder.contextId!)).headTurnId;
  const turn = recorder.enqueue(
    RunLifecycle,
    { nodeId: "", attempt: 0, kind: "a" },
    initialized("r"),
  );
  assert.equal((await store.getHead(recorder.contextId!)).headTurnId, head, "held, not stored");
  const id = await turn();
  assert.ok(id && id !== head);
  assert.equal((await store.getHead(recorder.contextId!)).headTurnId, id);
  await recorder.settle();
});

Deno.test("a held record is released by the hold limit while a long stage runs", async () => {
  await using store = new MemoryStore();
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  const head = (await store.getHead(recorder.contextId!)).headTurnId;
  recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "a" }, initialized("r"));
  await new Promise((resolve) => setTimeout(resolve, HOLD_LIMIT_MS * 3));
  assert.notEqual((await store.getHead(recorder.contextId!)).headTurnId, head);
  await recorder.settle();
});

Deno.test("held records keep their order behind a write that is awaited", async () => {
  await using store = new MemoryStore();
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  const first = recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "a" }, {
    ...initialized("first"),
  });
  const second = await recorder.write(RunLifecycle, { nodeId: "", attempt: 0, kind: "b" }, {
    ...initialized("second"),
  });
  const firstId = await first();
  assert.ok(firstId && second && BigInt(firstId) < BigInt(second));
  const turns = await store.listTurns(recorder.contextId!, { limit: 10 });
  assert.deepEqual(
    turns.map((t) => RunLifecycle.decode(t.payload).runId),
    ["first", "second"],
  );
  await recorder.settle();
});

Deno.test("one hold timer serves many stages: a record held after a release is still released by the limit", async () => {
  await using store = new MemoryStore();
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  const a = recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "a" }, initialized("a"));
  await a(); // released before the timer armed for it fires
  const head = (await store.getHead(recorder.contextId!)).headTurnId;
  recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "b" }, initialized("b"));
  await new Promise((resolve) => setTimeout(resolve, HOLD_LIMIT_MS * 3));
  assert.notEqual((await store.getHead(recorder.contextId!)).headTurnId, head, "b was released");
  await recorder.settle();
});

Deno.test("each record's idempotency key names its run, node, attempt, kind and sequence", async () => {
  const keys: (string | undefined)[] = [];
  await using memory = new MemoryStore();
  // The store as the recorder sees it, noting each append's key.
  const store = new Proxy(memory, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== "appendTurn") return typeof value === "function" ? value.bind(target) : value;
      return (req: { idempotencyKey?: string }) => {
        keys.push(req.idempotencyKey);
        return target.appendTurn(req as never);
      };
    },
  });
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  // A node id that reads like the recorder's event names must not confuse its keys.
  const odd = "x of stage y (attempt 7)";
  recorder.enqueue(RunLifecycle, { nodeId: odd, attempt: 2, kind: "stage_started" }, {
    ...initialized("a"),
  });
  recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "run_initialized" }, {
    ...initialized("b"),
  });
  await recorder.write(RunLifecycle, { nodeId: "n", attempt: 1, kind: "route" }, initialized("c"));
  await recorder.settle();
  const ours = keys.filter((k) => k?.startsWith("forge-attractor:v1|"));
  assert.deepEqual(ours, [
    attractorIdempotencyKey("run#1", odd, 2, "stage_started", ours.length - 2),
    attractorIdempotencyKey("run#1", "", 0, "run_initialized", ours.length - 1),
    attractorIdempotencyKey("run#1", "n", 1, "route", ours.length),
  ]);
});

Deno.test("asking for a released record's turn id does not release the records held after it", async () => {
  await using memory = new MemoryStore();
  let appends = 0;
  const store = new Proxy(memory, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== "appendTurn") return typeof value === "function" ? value.bind(target) : value;
      return (req: never) => {
        appends++;
        return target.appendTurn(req);
      };
    },
  });
  const recorder = await StoreRecorder.open({ store, mode: "required", keyPrefix: "run#1" });
  const a = recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "a" }, initialized("a"));
  recorder.release();
  const idA = await a();
  assert.equal(appends, 1);
  const b = recorder.enqueue(RunLifecycle, { nodeId: "", attempt: 0, kind: "b" }, initialized("b"));
  const again = a(); // b is handed over synchronously if at all
  assert.equal(appends, 1, "b still held");
  assert.equal(await again, idA);
  const idB = await b();
  assert.equal(appends, 2);
  assert.ok(idB && BigInt(idB) > BigInt(idA!));
  await recorder.settle();
});
