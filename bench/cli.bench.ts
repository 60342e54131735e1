/**
 * `forge runs` at scale: the first page of the runs listing over a Deno KV
 * file holding 10,000 runs, against the same page over a file holding 10.
 * A page must cost what it lists, not what the store holds (target ≤ 2).
 *
 * The stores are built from one real run of the pipeline runner (a
 * three-stage pipeline, simulation backend): its records, byte for byte,
 * are appended to each new run context (pipelined, 32 contexts at a time), which builds
 * 10,000 faithful runs in seconds instead of the minutes 10,000 runs of the
 * runner would take. Both stores are built the same way.
 *
 * @module
 */
import { defaultHandlers, preparePipeline, runPipeline } from "../attractor/mod.ts";
import { openStore } from "../stores/mod.ts";
import type { ForgeStore, StoredTurn } from "../turnstore/mod.ts";
import { listRunRows } from "../cli/views/runs.ts";
import { medianMs, type Reporter } from "./harness.ts";

const SOURCE = `digraph Bench {
  start [shape=Mdiamond]
  exit  [shape=Msquare]
  plan  [prompt="Plan"]
  build [prompt="Build"]
  check [prompt="Check"]
  start -> plan -> build -> check -> exit
}`;

/** One real run's turns, oldest first. */
async function templateRun(dir: string): Promise<{ turns: StoredTurn[]; blobs: Uint8Array[] }> {
  await using store = await openStore("memory:");
  const { graph } = preparePipeline(SOURCE);
  const result = await runPipeline({
    graph,
    dotSource: SOURCE,
    logsRoot: `${dir}/template`,
    handlers: defaultHandlers(),
    store,
    sleep: () => Promise.resolve(),
  });
  const turns = await store.listTurns(result.contextIds[0], { limit: 10_000 });
  const blobs = [new TextEncoder().encode(SOURCE)];
  return { turns, blobs };
}

async function fill(store: ForgeStore, runs: number, template: StoredTurn[], blobs: Uint8Array[]) {
  for (const b of blobs) await store.putBlob(b);
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < runs; i = next++) {
      const ctx = await store.createContext();
      // Appends to one context through one handle keep call order: pipeline them.
      await Promise.all(template.map((t) =>
        store.appendTurn({
          contextId: ctx.contextId,
          typeId: t.typeId,
          typeVersion: t.typeVersion,
          payload: t.payload,
        })
      ));
    }
  }));
}

/** Runs the benchmark. */
export async function run(reporter: Reporter): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "forge-bench-cli-" });
  try {
    const { turns, blobs } = await templateRun(dir);
    const timings: Record<number, number> = {};
    for (const runs of [10, 10_000]) {
      const url = `kv:${dir}/runs-${runs}.kv`;
      const built = performance.now();
      {
        await using store = await openStore(url);
        await fill(store, runs, turns, blobs);
      }
      console.log(
        `  built ${runs} runs (${turns.length} records each) in ${
          ((performance.now() - built) / 1000).toFixed(1)
        } s`,
      );
      await using store = await openStore(url);
      const page = async () => {
        const { runs: rows } = await listRunRows(store, { limit: 10 });
        if (rows.length !== 10) throw new Error(`expected a page of 10 runs, got ${rows.length}`);
      };
      await page(); // warm up: first reads, code paths
      timings[runs] = await medianMs(7, page);
    }
    reporter.report(
      "forge runs first page (10 rows) over 10,000 runs vs over 10 runs",
      timings[10_000],
      timings[10],
      "ms",
      "<= 2",
      "KV file; each row reads the run's records from its head (listContexts pages, readRun, token sum)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
