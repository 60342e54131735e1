/**
 * The keyless demo (`deno task demo`): runs the shipped example pipeline
 * examples/demo.dot — a plan stage whose agent spawns a subagent, an
 * implement stage that is a goal gate and is retried, a shell tool stage, a
 * human gate (auto-approved), a parallel fan-out and fan-in — with its agent
 * stages on a scripted model, working in a small workspace through the
 * agent's confined environment, every record persisted to a local Deno KV
 * file. Then it prints `forge inspect` of the run, writes the run's HTML
 * trace, and says which commands look further.
 *
 * No API key, no server: the model is a script, the store a file under
 * ./.forge.
 *
 * @module
 */
import {
  assertRunnable,
  AutoApproveInterviewer,
  defaultHandlers,
  preparePipeline,
  runPipeline,
  type RunResult,
} from "@forge/attractor";
import { newRunId } from "@forge/attractor/engine";
import { AgentBackend } from "@forge/attractor/agent";
import { anthropicProfile, defaultEnvironment, describeConfinement } from "@forge/agent";
import { openStore as openTurnStore } from "@forge/stores";
import { DemoModel } from "./demo/model.ts";
import { CheckedBackend } from "./demo/backend.ts";
import { ProgressRenderer } from "./progress.ts";
import { readRunReport, renderRunReport } from "./views/inspect.ts";
import { readTrace } from "./trace/model.ts";
import { pageData, renderTraceHtml } from "./trace/html.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "./catalogs.ts";

/** The shipped pipeline the demo runs. */
export const DEMO_PIPELINE = new URL("../examples/demo.dot", import.meta.url);

/** What the demo did. */
export interface DemoResult {
  /** The run. */
  readonly result: RunResult;
  /** The run's store context. */
  readonly contextId: string;
  /** Where the HTML trace was written. */
  readonly tracePath: string;
  /** The workspace the agents worked in. */
  readonly workspace: string;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the text goes; default the console. */
  readonly print?: (text: string) => void;
  /** Live progress on a terminal (the CLI passes one; tests leave it out). */
  readonly progress?: ProgressRenderer;
}

async function seedWorkspace(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/src`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/src/greet.ts`,
    "export function greet(name: string): string {\n  return `hello, ${name}`;\n}\n",
  );
  await Deno.writeTextFile(`${dir}/README.md`, "# greeter\n\ngreet() says hello by name.\n");
}

/**
 * Runs the demo pipeline into `storeUrl`, with its workspace, run directory
 * and trace page under `dir`.
 */
export async function runDemo(
  storeUrl: string,
  dir: string,
  options: DemoOptions = {},
): Promise<DemoResult> {
  const print = options.print ?? ((text: string) => console.log(text));
  const workspace = `${dir}/demo-workspace`;
  await seedWorkspace(workspace);
  const source = await Deno.readTextFile(DEMO_PIPELINE);
  const prepared = preparePipeline(source);
  assertRunnable(prepared);
  const runId = newRunId();
  await using store = await openTurnStore(storeUrl);
  // The agent's default environment: inside bubblewrap wherever it works.
  const env = await defaultEnvironment(workspace);
  const backend = new CheckedBackend(
    new AgentBackend({
      provider: new DemoModel(),
      profile: anthropicProfile({ model: "scripted" }),
      env,
      store,
    }),
    workspace,
  );
  let result: RunResult;
  try {
    print(
      `Running ${prepared.graph.id} (examples/demo.dot) as ${runId}: agent stages on a ` +
        `scripted model (${describeConfinement(env.confinement())}), records to ${storeUrl}\n`,
    );
    result = await runPipeline({
      graph: prepared.graph,
      dotSource: source,
      logsRoot: `${dir}/demo-runs/${runId}`,
      runId,
      handlers: defaultHandlers(),
      backend,
      interviewer: new AutoApproveInterviewer(),
      store,
      storeUrl,
      baseDir: workspace,
      // The retry's backoff is real but capped, so the demo takes seconds.
      sleep: (ms, signal) => abortableDelay(Math.min(ms, 300), signal),
      onEvent: options.progress?.onEvent,
    });
  } finally {
    options.progress?.close();
    await backend.close();
    await env.close();
  }
  const contextId = result.contextIds.at(-1);
  if (!contextId) throw new Error("the demo run persisted no context");
  const report = await readRunReport(store, contextId);
  if (!report) throw new Error(`context ${contextId} holds no run`);
  print(renderRunReport(report));
  const trace = await readTrace(store, contextId, {
    catalogs: PROJECT_CATALOGS,
    bundles: PROJECT_BUNDLES,
  });
  const tracePath = `${dir}/demo-trace.html`;
  await Deno.writeTextFile(
    tracePath,
    renderTraceHtml(pageData(trace, `${report.run.graphId} run ${report.run.runId}`)),
  );
  return { result, contextId, tracePath, workspace };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener("abort", stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", stop, { once: true });
  });
}

if (import.meta.main) {
  const storeUrl = Deno.args[0] ?? "kv:.forge/demo.kv";
  const progress = new ProgressRenderer({
    write: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)),
    isTerminal: Deno.stdout.isTerminal(),
  });
  const demo = await runDemo(storeUrl, ".forge", { progress });
  const f = "npx -y deno@2.9.6 task forge";
  const s = `--store ${storeUrl}`;
  console.log(
    `\nEverything above was read back from ${storeUrl}. The trace page is ${demo.tracePath} ` +
      `(open it in a browser; it needs no network). Look further with:\n` +
      `  ${f} runs ${s}\n` +
      `  ${f} inspect ${demo.result.runId} ${s}\n` +
      `  ${f} inspect ${demo.result.runId} --stage implement ${s}\n` +
      `  ${f} trace ${demo.result.runId} ${s}\n` +
      `  ${f} trace ${demo.result.runId} --format dot ${s} | dot -Tsvg > trace.svg\n` +
      `  ${f} serve ${s}`,
  );
  Deno.exit(demo.result.status === "success" ? 0 : 1);
}
