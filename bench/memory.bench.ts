/** Memory backend: append throughput against Map.set of the same bytes. */
import { MemoryStore } from "../turnstore/mod.ts";
import { opsPerSecond, type Reporter } from "./harness.ts";

/** Runs the memory benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  const n = 20_000;
  const payload = new Uint8Array(256).fill(7);
  const map = new Map<string, Uint8Array>();
  const raw = await opsPerSecond(n, (i) => map.set(String(i), payload.slice()));
  const store = new MemoryStore();
  const ctx = await store.createContext();
  const appends = await opsPerSecond(
    n,
    () => store.appendTurn({ contextId: ctx.contextId, typeId: "bench", typeVersion: 1, payload }),
  );
  reporter.report(
    "memory append (256 B) vs Map.set",
    appends,
    raw,
    "ops/s",
    ">= 0.05",
    "an append validates, hashes (BLAKE3) and copies; Map.set does none of that",
  );
  await store.close();
}
