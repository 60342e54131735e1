import assert from "node:assert/strict";
import { MemoryStore } from "@forge/turnstore";
import { PersistenceError, sessionWriter } from "./persistence.ts";
import { agentBundle, agentCatalog, SystemTurn, UserTurn } from "../records.ts";
import { FlakyStore, throwingStore } from "../testing/stores.ts";

const fast = { attempts: 3, backoffMs: 0 };

Deno.test("mode off never calls the store", async () => {
  const store = throwingStore();
  const w = sessionWriter({ store, mode: "off", sessionId: "s" });
  await w.open();
  const value = { at: 1, content: "hi" };
  assert.equal(await w.append(UserTurn, value, "user"), undefined);
  await w.flush();
  assert.deepEqual(store.touched, []);
  assert.equal(w.contextId, undefined);
});

Deno.test("modes other than off need a store, and unknown modes are refused", () => {
  assert.throws(() => sessionWriter({ mode: "required", sessionId: "s" }), /needs a store/);
  assert.throws(
    () => sessionWriter({ mode: "sometimes" as never, sessionId: "s" }),
    /persistence mode must be one of off, best_effort, required, got "sometimes"/,
  );
});

for (const pipelineWindow of [1, 64]) {
  const label = ` (pipeline window ${pipelineWindow})`;
  Deno.test(`a session writer publishes the agent bundle and keys writes by session, write number and event; payloads hold no join keys${label}`, async () => {
    const store = new FlakyStore();
    const w = sessionWriter({ store, mode: "required", sessionId: "s-1", pipelineWindow });
    await w.open();
    assert.ok(await store.getRegistryBundle(agentBundle.bundle_id));
    const a = await w.append(
      UserTurn,
      { at: 5, content: "one" },
      "user",
    );
    const b = await w.append(
      SystemTurn,
      { at: 6, content: "two" },
      "system",
    );
    assert.equal(a?.depth, 1);
    assert.equal(b?.parentTurnId, a?.turnId);
    assert.deepEqual(store.keys, [
      "forge-agent:v1|3:s-1|1|4:user",
      "forge-agent:v1|3:s-1|2|6:system",
    ]);
    const decoded = agentCatalog.decode(b!);
    assert.deepEqual(decoded?.value, { at: 6, content: "two" });
  });

  Deno.test(`a failed write names the session and its event${label}`, async () => {
    const store = new FlakyStore();
    const w = sessionWriter({
      store,
      mode: "required",
      sessionId: "s",
      retry: fast,
      pipelineWindow,
    });
    await w.open();
    store.failAll = true;
    const value = { at: 1, content: "x" };
    const error = await w.append(UserTurn, value, "user").catch((e: unknown) => e);
    assert.ok(error instanceof PersistenceError);
    assert.equal(error.event, "user");
    assert.match(error.message, /persisting user of session s failed: injected failure/);
    assert.equal(store.appendCalls, 3, "tried three times");
  });

  Deno.test(`a subagent's writer opened with forkFrom starts its context at that turn${label}`, async () => {
    const store = new MemoryStore();
    const parent = sessionWriter({ store, mode: "required", sessionId: "p", pipelineWindow });
    await parent.open();
    const t = await parent.append(
      UserTurn,
      { at: 1, content: "p" },
    );
    const child = sessionWriter({ store, mode: "required", sessionId: "c", pipelineWindow });
    await child.open({ forkFrom: t!.turnId });
    const c = await child.append(
      UserTurn,
      { at: 2, content: "c" },
    );
    assert.equal(c?.parentTurnId, t?.turnId);
    assert.notEqual(child.contextId, parent.contextId);
  });
}
