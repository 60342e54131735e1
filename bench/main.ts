/**
 * Runs every benchmark (or those named on the command line) and prints each
 * figure beside its limit from the same run. `deno task bench [names...]`.
 *
 * @module
 */
import { type Bench, Reporter } from "./harness.ts";

const all: Record<string, () => Promise<{ run: Bench }>> = {
  memory: () => import("./memory.bench.ts"),
  kv: () => import("./kv.bench.ts"),
  fs: () => import("./fs.bench.ts"),
  cxdb: () => import("./cxdb.bench.ts"),
  llm: () => import("./llm.bench.ts"),
  agent: () => import("./agent.bench.ts"),
  agent_tools: () => import("./agent_tools.bench.ts"),
  attractor: () => import("./attractor.bench.ts"),
  attractor_graph: () => import("./attractor_graph.bench.ts"),
  cli: () => import("./cli.bench.ts"),
};

const chosen = Deno.args.length ? Deno.args : Object.keys(all);
const reporter = new Reporter();
for (const name of chosen) {
  const load = all[name];
  if (!load) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(" ")}`);
    Deno.exit(2);
  }
  console.log(`\n# ${name}`);
  await (await load()).run(reporter);
}
const missed = reporter.results.filter((r) => !r.meets);
console.log(`\n${reporter.results.length} figures, ${missed.length} below target`);
