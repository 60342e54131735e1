import assert from "node:assert/strict";
import { type AppendedTurn, type AppendTurnInput, MemoryStore } from "@forge/turnstore";
import { PersistenceError, SessionRecorder } from "./persistence.ts";
import { agentBundle, agentCatalog, SystemTurn, UserTurn } from "../records.ts";
import { FlakyStore, throwingStore } from "../testing/stores.ts";

const fast = { attempts: 3, backoffMs: 0 };

Deno.test("mode off never calls the store", async () => {
  const store = throwingStore();
  const rec = new SessionRecorder({ store, mode: "off", sessionId: "s" });
  await rec.open();
  assert.equal(await rec.append(UserTurn, "user", { at: 1, content: "hi" }), undefined);
  await rec.flush();
  assert.deepEqual(store.touched, []);
  assert.equal(rec.contextId, undefined);
});

Deno.test("modes other than off need a store, and unknown modes are refused", () => {
  assert.throws(() => new SessionRecorder({ mode: "required", sessionId: "s" }), /needs a store/);
  assert.throws(
    () => new SessionRecorder({ mode: "sometimes" as never, sessionId: "s" }),
    /persistence mode must be one of off, best_effort, required, got "sometimes"/,
  );
});

for (const pipelineWindow of [1, 64]) {
  const label = ` (pipeline window ${pipelineWindow})`;
  Deno.test(`open publishes the agent bundle and appends chain with deterministic keys${label}`, async () => {
    const store = new FlakyStore();
    const rec = new SessionRecorder({ store, mode: "required", sessionId: "s-1", pipelineWindow });
    await rec.open();
    assert.ok(await store.getRegistryBundle(agentBundle.bundle_id));
    const a = await rec.append(UserTurn, "user", { at: 5, content: "one" });
    const b = await rec.append(SystemTurn, "system", { at: 6, content: "two" });
    assert.equal(a?.depth, 1);
    assert.equal(b?.parentTurnId, a?.turnId);
    assert.deepEqual(store.keys, [
      "forge-agent:v1|3:s-1|1|4:user",
      "forge-agent:v1|3:s-1|2|6:system",
    ]);
    const decoded = agentCatalog.decode(b!);
    assert.deepEqual(decoded?.value, { sessionId: "s-1", sequenceNo: 2, at: 6, content: "two" });
  });

  Deno.test(`required: a write that keeps failing fails with a PersistenceError naming it${label}`, async () => {
    const store = new FlakyStore();
    const rec = new SessionRecorder({
      store,
      mode: "required",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
    });
    await rec.open();
    store.failAll = true;
    const error = await rec.append(UserTurn, "user", { at: 1, content: "x" }).catch((e) => e);
    assert.ok(error instanceof PersistenceError);
    assert.equal(error.code, "Persistence");
    assert.equal(error.event, "user");
    assert.match(error.message, /persisting user of session s failed: injected failure/);
    assert.equal(store.appendCalls, 3, "tried three times");
    assert.equal((await store.getHead(rec.contextId!)).headDepth, 0, "nothing was written");
  });

  Deno.test(`best_effort: a failed write warns, and later writes go on from the last stored turn${label}`, async () => {
    const store = new FlakyStore();
    const warnings: string[] = [];
    const rec = new SessionRecorder({
      store,
      mode: "best_effort",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
      onWarning: (m) => warnings.push(m),
    });
    await rec.open();
    const first = await rec.append(UserTurn, "user", { at: 1, content: "a" });
    store.failCalls.add(2).add(3).add(4);
    assert.equal(await rec.append(UserTurn, "user", { at: 2, content: "lost" }), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /persisting user of session s failed/);
    const third = await rec.append(UserTurn, "user", { at: 3, content: "c" });
    assert.equal(third?.parentTurnId, first?.turnId);
    const turns = await store.listTurns(rec.contextId!);
    assert.deepEqual(turns.map((t) => agentCatalog.decode(t)?.value.content), ["a", "c"]);
  });

  Deno.test(`a retried write whose acknowledgement was lost is not duplicated${label}`, async () => {
    const store = new FlakyStore();
    store.failureKind = "after_write";
    const rec = new SessionRecorder({
      store,
      mode: "required",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
    });
    await rec.open();
    store.failCalls.add(1);
    const turn = await rec.append(UserTurn, "user", { at: 1, content: "once" });
    assert.equal(turn?.deduplicated, true, "the retry found the first write");
    assert.equal(store.appendCalls, 2);
    assert.equal(store.keys[0], store.keys[1], "same idempotency key on retry");
    assert.equal((await store.getHead(rec.contextId!)).headDepth, 1, "one turn stored");
  });

  Deno.test(`concurrent appends are serialized into one chain${label}`, async () => {
    const store = new MemoryStore();
    const rec = new SessionRecorder({ store, mode: "required", sessionId: "s", pipelineWindow });
    await rec.open();
    const turns = await Promise.all(
      Array.from({ length: 5 }, (_, i) => rec.append(UserTurn, "user", { at: i, content: `${i}` })),
    );
    for (let i = 1; i < turns.length; i++) {
      assert.equal(turns[i]?.parentTurnId, turns[i - 1]?.turnId);
    }
    assert.equal(rec.headTurnId, turns[4]?.turnId);
  });

  Deno.test(`a bad record value fails at once, before anything is written${label}`, async () => {
    const store = new MemoryStore();
    const rec = new SessionRecorder({ store, mode: "best_effort", sessionId: "s", pipelineWindow });
    await rec.open();
    assert.throws(
      () => rec.append(UserTurn, "user", { at: -1, content: "x" }),
      /forge\.agent\.user_turn v3: at/,
    );
    assert.equal((await store.getHead(rec.contextId!)).headDepth, 0);
  });

  Deno.test(`a recorder opened with forkFrom starts its context at that turn${label}`, async () => {
    const store = new MemoryStore();
    const parent = new SessionRecorder({ store, mode: "required", sessionId: "p", pipelineWindow });
    await parent.open();
    const t = await parent.append(UserTurn, "user", { at: 1, content: "p" });
    const child = new SessionRecorder({ store, mode: "required", sessionId: "c", pipelineWindow });
    await child.open({ forkFrom: t!.turnId });
    const c = await child.append(UserTurn, "user", { at: 2, content: "c" });
    assert.equal(c?.parentTurnId, t?.turnId);
    assert.notEqual(child.contextId, parent.contextId);
    assert.equal(
      (await store.getHead(parent.contextId!)).headTurnId,
      t?.turnId,
      "parent unchanged",
    );
  });
}

/** A store that holds back the first append of each burst, so a burst lands out of order. */
class ReorderingStore extends MemoryStore {
  #held = false;
  override async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    if (!this.#held && input.idempotencyKey?.includes("|2|")) {
      this.#held = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return super.appendTurn(input);
  }
}

Deno.test("pipelined writes that a backend reorders are detected, never silently accepted", async () => {
  const store = new ReorderingStore();
  const rec = new SessionRecorder({ store, mode: "required", sessionId: "s", pipelineWindow: 8 });
  await rec.open();
  await rec.append(UserTurn, "user", { at: 1, content: "one" });
  const second = rec.append(UserTurn, "user", { at: 2, content: "two" });
  const third = rec.append(UserTurn, "user", { at: 3, content: "three" });
  const results = await Promise.allSettled([second, third]);
  const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.ok(rejected, "one of the out-of-order writes is refused");
  assert.ok(rejected.reason instanceof PersistenceError);
  assert.match(rejected.reason.message, /reordered concurrent appends/);
  assert.throws(() => rec.throwIfFailed(), PersistenceError);
});

Deno.test("a pipelined write whose acknowledgement was lost is found again, not duplicated, even after later writes landed", async () => {
  const store = new FlakyStore();
  store.failureKind = "after_write";
  const rec = new SessionRecorder({
    store,
    mode: "required",
    sessionId: "s",
    retry: fast,
    pipelineWindow: 8,
  });
  await rec.open();
  store.failCalls.add(1);
  const turns = await Promise.all(
    ["a", "b", "c"].map((content, i) => rec.append(UserTurn, "user", { at: i, content })),
  );
  assert.equal(turns[0]?.deduplicated, true);
  assert.deepEqual(turns.map((t) => t?.depth), [1, 2, 3]);
  assert.equal((await store.getHead(rec.contextId!)).headDepth, 3, "three turns, no duplicate");
});

Deno.test("write-behind: enqueue does not wait, and settle reports a failure in mode required", async () => {
  const store = new FlakyStore();
  const rec = new SessionRecorder({ store, mode: "required", sessionId: "s", retry: fast });
  await rec.open();
  store.failAll = true;
  rec.enqueue(UserTurn, "user", { at: 1, content: "x" });
  rec.throwIfFailed(); // not known yet: nothing has been tried
  await assert.rejects(() => rec.settle(), PersistenceError);
  assert.ok(rec.failure instanceof PersistenceError);
});

Deno.test("a payload of 32 KiB or more is written alone, and the chain keeps call order", async () => {
  const big = "x".repeat(40 * 1024);
  const events: string[] = [];
  let inflight = 0;
  class SlowStore extends MemoryStore {
    override async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
      const size = input.payload.length >= 32 * 1024 ? "big" : "small";
      events.push(`issue ${size} with ${inflight} in flight`);
      inflight++;
      await new Promise((resolve) => setTimeout(resolve, 1));
      try {
        return await super.appendTurn(input);
      } finally {
        inflight--;
      }
    }
  }
  const store = new SlowStore();
  const rec = new SessionRecorder({ store, mode: "required", sessionId: "s", pipelineWindow: 64 });
  await rec.open();
  const texts = ["a", "b", big, "c", "d"];
  for (const content of texts) rec.enqueue(UserTurn, "user", { at: 1, content });
  await rec.settle();
  const bigAt = events.indexOf("issue big with 0 in flight");
  assert.ok(bigAt > 0, `the big write waits for the ones before it: ${events.join("; ")}`);
  assert.match(events[bigAt + 1], /^issue small with 0 in flight$/, "the next waits for it");
  const turns = await store.listTurns(rec.contextId!);
  assert.deepEqual(turns.map((t) => UserTurn.decode(t.payload).content), texts);
});

for (const pipelineWindow of [1, 64]) {
  const label = ` (pipeline window ${pipelineWindow})`;

  Deno.test(`write-behind in mode required: the first failure is kept, named, and refuses later records${label}`, async () => {
    const store = new FlakyStore();
    const rec = new SessionRecorder({
      store,
      mode: "required",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
    });
    await rec.open();
    rec.enqueue(UserTurn, "user", { at: 1, content: "kept" });
    await rec.settle();
    store.failAll = true;
    rec.enqueue(SystemTurn, "system", { at: 2, content: "lost" });
    rec.enqueue(UserTurn, "user", { at: 3, content: "refused" });
    const error = await rec.settle().catch((e) => e);
    assert.ok(error instanceof PersistenceError);
    assert.equal(error.event, "system", "the first failed record is the one reported");
    assert.equal(rec.failure, error);
    store.failAll = false;
    const turns = await store.listTurns(rec.contextId!);
    assert.deepEqual(turns.map((t) => agentCatalog.decode(t)?.value.content), ["kept"]);
  });

  Deno.test(`write-behind in mode best_effort: a failed record warns and later records chain on${label}`, async () => {
    const store = new FlakyStore();
    const warnings: string[] = [];
    const rec = new SessionRecorder({
      store,
      mode: "best_effort",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
      onWarning: (m) => warnings.push(m),
    });
    await rec.open();
    rec.enqueue(UserTurn, "user", { at: 1, content: "a" });
    await rec.settle();
    store.failCalls.add(store.appendCalls + 1).add(store.appendCalls + 2).add(
      store.appendCalls + 3,
    );
    rec.enqueue(UserTurn, "user", { at: 2, content: "lost" });
    await rec.settle();
    rec.enqueue(UserTurn, "user", { at: 3, content: "c" });
    await rec.settle();
    assert.equal(rec.failure, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /persisting user of session s failed/);
    const turns = await store.listTurns(rec.contextId!);
    assert.deepEqual(turns.map((t) => agentCatalog.decode(t)?.value.content), ["a", "c"]);
  });
}
