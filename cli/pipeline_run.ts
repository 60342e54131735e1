/**
 * `forge run`, `forge resume` and `forge answer`: run a DOT pipeline,
 * continue one from its run directory or from the store alone, and answer
 * the durable human gate a run waits on (which resumes it).
 *
 * Exit codes: 0 the run succeeded, 1 it failed (the reason on stderr, even
 * with --quiet), 2 usage errors, 3 the run waits on a human gate (the
 * question and how to answer are printed), 130/143 stopped by SIGINT/SIGTERM
 * (the checkpoint stays consistent; resume it).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  assertRunnable,
  AutoApproveInterviewer,
  checkPipelineUnchanged,
  type CodergenBackend,
  ConsoleInterviewer,
  defaultHandlers,
  DotParseError,
  DurableInterviewer,
  GraphValidationError,
  type Interviewer,
  preparePipeline,
  readRun,
  ResumeError,
  type ResumePoint,
  resumePointFromDirectory,
  resumePointFromStore,
  RunDirectoryError,
  RunNotInStoreError,
  runPipeline,
  type RunResult,
  SimulationBackend,
} from "@forge/attractor";
import {
  findChoice,
  gateChoices,
  newRunId,
  readManifest,
  recordedRunDirectory,
} from "@forge/attractor/engine";
import { AgentBackend } from "@forge/attractor/agent";
import {
  anthropicProfile,
  createProviderFromEnv,
  defaultEnvironment,
  openaiProfile,
} from "@forge/agent";
import type { ForgeStore } from "@forge/turnstore";
import { type CliContext, type CliIo, DEFAULT_STORE } from "./cli.ts";
import { formatDiagnostic } from "./pipeline_validate.ts";
import { findRunContext } from "./views/runs.ts";
import { stdoutProgress } from "./progress.ts";
import { lockRun, type RunLock } from "./run_lock.ts";
import { fileProblem, isFile, pathExists } from "./file_errors.ts";
import { argsProblem, wantsHelp } from "./views/args.ts";

const usage = () =>
  `usage:
  forge run <pipeline.dot> [--logs DIR] [--store URL] [--simulate] [--auto-approve] [--quiet]
                           [--resume DIR] [--run-id ID] [--force] [--persistence MODE]
  forge resume <run> [--store URL] [--logs DIR] [--simulate] [--auto-approve] [--quiet] [--force]
  forge answer <run> <choice> [--store URL] [--logs DIR] [--simulate] [--quiet]

  <run> is a run directory, a run id under .forge/runs/, or the run's store context id.
  --store URL        where records go (default ${DEFAULT_STORE}, or FORGE_STORE; a run
                     directory's own store when it names one)
  --logs DIR         the run directory (default .forge/runs/<run id>; a run found in
                     the store continues in its own directory, if it is still there)
  --resume DIR       continue the run recorded in DIR (as forge resume DIR)
  --run-id ID        the new run's id: 1–128 letters, digits, '.', '_' or '-'
  --persistence M    off | best_effort | required (default required)
  --simulate         no LLM: every LLM stage answers "[Simulated] …"
  --auto-approve     every human gate takes its first option
  --quiet            no progress output (failures still go to stderr)
  --force            resume even though the DOT source changed

exit codes: 0 success, 1 failure, 2 usage, 3 waiting on a human gate,
            130 / 143 stopped by SIGINT / SIGTERM (forge resume continues it)`;

const OPTIONS = {
  logs: { type: "string" },
  store: { type: "string" },
  simulate: { type: "boolean" },
  "auto-approve": { type: "boolean" },
  quiet: { type: "boolean" },
  resume: { type: "string" },
  "run-id": { type: "string" },
  force: { type: "boolean" },
  persistence: { type: "string" },
} as const;

class UsageError extends Error {}

/** Runs `forge run|resume|answer`; returns the exit code. */
export async function pipelineCommand(
  command: "run" | "resume" | "answer",
  args: string[],
  io: CliIo,
  ctx: CliContext,
): Promise<number> {
  if (wantsHelp(args)) {
    io.out(usage());
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    io.err(`forge ${command}: ${argsProblem(error)}\n\n${usage()}`);
    return 2;
  }
  const v = parsed.values;
  const persistence = v.persistence ?? "required";
  if (!["off", "best_effort", "required"].includes(persistence)) {
    io.err(
      `forge ${command}: --persistence must be off, best_effort or required, got ${persistence}`,
    );
    return 2;
  }
  if (v.store === "") {
    io.err(`forge ${command}: --store needs a URL, got an empty one\n\n${usage()}`);
    return 2;
  }
  let storeUrl = v.store || Deno.env.get("FORGE_STORE") || DEFAULT_STORE;
  let store: ForgeStore | undefined;
  let backend: CodergenBackend | undefined;
  const abort = new AbortController();
  const progress = stdoutProgress();
  let stoppedBy: Deno.Signal | undefined;
  let lock: RunLock | undefined;
  // Until the run starts, a refused command takes back the run directory its lock made.
  let started = false;
  const onSignal = (signal: Deno.Signal) => () => {
    stoppedBy ??= signal;
    io.err(`forge ${command}: ${signal} received; stopping at a consistent checkpoint`);
    abort.abort();
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    const plan = await planRun(command, parsed.positionals, v, io);
    // A new run's pipeline is read and checked before any store is opened
    // (or made): a file that does not parse leaves nothing behind.
    const fileSource = plan.dotFile ? await readDot(plan.dotFile) : undefined;
    const early = fileSource !== undefined && !plan.resumeDir
      ? checked(preparePipeline(fileSource), plan.dotFile!, v.quiet ?? false, io)
      : undefined;
    // A run directory names the store its run was recorded in.
    if (plan.resumeDir && !v.store) {
      const manifest = await readManifest(plan.resumeDir).catch(() => undefined);
      if (manifest?.store) storeUrl = manifest.store;
    }
    if (persistence !== "off") {
      // A run looked up in the store (no run directory) needs that store to
      // exist already; any store must be one (not a directory of other files).
      await ctx.storeExists?.(storeUrl, { create: command === "run" || !!plan.resumeDir });
      const kvFile = storeUrl.startsWith("kv:") && !storeUrl.startsWith("kv::") &&
        !/^kv:https?:/i.test(storeUrl);
      if (kvFile) await Deno.mkdir(resolve(storeUrl.slice(3), ".."), { recursive: true });
      store = await ctx.openStore(storeUrl);
    }
    if (plan.runId && store) plan.contextId = await findRunContext(store, plan.runId);
    if (plan.runId && !plan.contextId) {
      throw new UsageError(
        `${plan.runId} is neither a run directory, a run id under .forge/runs, nor a context id` +
          (store ? ` (no run with that id in ${storeUrl})` : ""),
      );
    }
    // A run found in the store is continued in its own run directory, wherever it is (--logs).
    if (plan.contextId && store && v.logs === undefined) {
      plan.resumeDir = await ownRunDirectory(store, plan.contextId, plan.runId);
      if (plan.resumeDir) plan.contextId = undefined;
    }
    // The run directory is locked before its checkpoint is read: a second
    // process continuing the same run stops here (cli/run_lock.ts).
    if (plan.resumeDir) lock = await lockRun(resolve(plan.resumeDir));
    let point: ResumePoint | undefined = plan.resumeDir
      ? await resumeFromDirectory(plan.resumeDir, store, storeUrl)
      : plan.contextId
      ? await resumePointFromStore(requireStore(store), plan.contextId)
      : undefined;
    const runId = point?.checkpoint.run_id ?? v["run-id"] ?? newRunId();
    if (!plan.resumeDir && !v.logs && !RUN_ID.test(runId)) {
      // A run id read from a store names a folder only if it is one path segment.
      throw new UsageError(
        `the run id ${JSON.stringify(runId)} recorded in the store is not one path segment; ` +
          "choose the run directory with --logs DIR",
      );
    }
    const logsRoot = resolve(plan.resumeDir ?? v.logs ?? join(".forge", "runs", runId));
    if (!lock) {
      // Resumed from the store into a directory: never one that records another run.
      if (point) await refuseOtherRunDirectory(logsRoot, runId);
      lock = await lockRun(logsRoot);
      // Found in the store: read it again now that no other process can move it.
      if (point && plan.contextId) {
        point = await resumePointFromStore(requireStore(store), plan.contextId);
      }
    }
    // A run directory's DOT file comes first (a changed one is refused unless --force); the
    // store's copy of the source the run executed serves when the manifest names no file.
    const source = fileSource ??
      (point?.manifest?.dot_file ? await readDot(point.manifest.dot_file) : undefined) ??
      point?.dotSource;
    if (source === undefined) {
      throw new UsageError(
        "the run's DOT source is not known; pass it: forge run <pipeline.dot> --resume DIR",
      );
    }
    let note = point?.note;
    if (point) {
      const changed = checkPipelineUnchanged(point, source, v.force ?? false);
      if (changed) note = note ? `${note}; ${changed}` : changed;
    }
    const graph = (early ??
      checked(preparePipeline(source), plan.dotFile ?? "pipeline", v.quiet ?? false, io)).graph;
    let interviewer: Interviewer;
    if (command === "answer") {
      const waiting = point?.checkpoint.waiting_on;
      if (!waiting) {
        throw new UsageError(`run ${point?.checkpoint.run_id} is not waiting on a human gate`);
      }
      const choices = gateChoices(graph, waiting);
      const choice = plan.choice!;
      const sameKey = choices.filter((c) => c.key.toLowerCase() === choice.trim().toLowerCase());
      if (sameKey.length > 1) {
        throw new UsageError(
          `${JSON.stringify(choice)} is the key of ${sameKey.length} options of ${waiting} (${
            sameKey.map((c) => `${c.label} → ${c.to}`).join(", ")
          }); answer with the option's label or its target node`,
        );
      }
      const found = findChoice(choices, choice);
      if (!found) {
        throw new UsageError(
          `${JSON.stringify(choice)} is not an option of ${waiting}: ${
            choices.map((c) => `${c.key} (${c.label})`).join(", ")
          }`,
        );
      }
      // The gate's interviewer knows options by key and label; a target node is given as its label.
      interviewer = new DurableInterviewer(new Map([[waiting, found.label]]));
    } else if (v["auto-approve"]) {
      interviewer = new AutoApproveInterviewer();
    } else if (Deno.stdin.isTerminal()) {
      interviewer = new ConsoleInterviewer();
    } else {
      interviewer = new DurableInterviewer();
    }
    backend = v.simulate ? new SimulationBackend() : await agentBackend(store, persistence);
    started = true;
    if (!v.quiet) {
      io.out(`${point ? "resuming" : "running"} ${graph.id} as ${runId}`);
      io.out(`  run directory ${logsRoot}`);
    }
    const result = await runPipeline({
      graph,
      dotSource: source,
      logsRoot,
      runId,
      handlers: defaultHandlers(),
      backend,
      interviewer,
      store,
      storeUrl: persistence === "off" ? undefined : storeUrl,
      persistence: persistence as "off" | "best_effort" | "required",
      signal: abort.signal,
      dotFile: plan.dotFile,
      resume: point
        ? { checkpoint: point.checkpoint, contextId: point.contextId, note, chain: point.chain }
        : undefined,
      // Live progress on a terminal (cli/progress.ts); nothing when piped or --quiet.
      onEvent: v.quiet ? undefined : progress.onEvent,
      onWarning: (m) => io.err(`forge ${command}: warning: ${m}`),
    });
    return report(result, io, v.quiet ?? false, stoppedBy, storeUrl, persistence, logsRoot);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`forge ${command}: ${error.message}\n\n${usage()}`);
      return 2;
    }
    if (error instanceof DotParseError) {
      io.err(`forge ${command}: ${error.message}`);
      return 1;
    }
    if (error instanceof GraphValidationError) {
      // Without --quiet each error was printed above with its line and fix.
      const n = error.errors.length;
      io.err(
        v.quiet
          ? `forge ${command}: ${error.message}`
          : `forge ${command}: the pipeline has ${n} error${n === 1 ? "" : "s"} (above); not run`,
      );
      return 1;
    }
    if (error instanceof ResumeError || error instanceof RunDirectoryError) {
      io.err(`forge ${command}: ${error.message}`);
      return error instanceof ResumeError && error.code === "PipelineChanged" ? 1 : 2;
    }
    const code = (error as { code?: string }).code;
    if (code) {
      io.err(`forge ${command}: ${code}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  } finally {
    if (lock && !started) await lock.discard();
    else lock?.release();
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    progress.close();
    await backend?.close?.();
    await store?.close();
  }
}

/**
 * The remedy for a run directory whose run is not in the store it would be
 * continued in (`RunNotInStoreError` of the library says which and where):
 * a memory store ended with the process that ran it, so only the directory
 * is left; any other store was the wrong one.
 */
function withRemedy(error: RunNotInStoreError, manifestStore: string | null): Error {
  const remedy = /^(memory:|kv::memory:)/i.test(manifestStore ?? "")
    ? "a memory store ends with its process: continue the run with --persistence off"
    : "continue it with the store it was recorded in (--store URL)";
  error.message = `${error.message}; ${remedy}`;
  return error;
}

interface Plan {
  dotFile?: string;
  resumeDir?: string;
  contextId?: string;
  /** A run id to look up in the store. */
  runId?: string;
  choice?: string;
}

async function planRun(
  command: string,
  positionals: string[],
  v: { resume?: string; logs?: string; "run-id"?: string },
  _io: CliIo,
): Promise<Plan> {
  if (command === "run") {
    const [file, extra] = positionals;
    if (!file || extra) throw new UsageError("needs exactly one pipeline file");
    if (v.resume && v.logs && resolve(v.resume) !== resolve(v.logs)) {
      throw new UsageError("--resume DIR is the run directory; do not also pass another --logs");
    }
    if (v.resume !== undefined && !(await isFile(join(v.resume, "manifest.json")))) {
      // Checked before the run directory is locked: locking makes the folder and its run.lock.
      throw new UsageError(
        `--resume ${v.resume} is not a run directory (it has no manifest.json); ` +
          "name the directory a run was recorded in",
      );
    }
    if (v["run-id"] !== undefined) checkRunId(v["run-id"]);
    const logs = v.logs ?? (v["run-id"] && join(".forge", "runs", v["run-id"]));
    if (!v.resume && logs) await refuseRecordedRunDirectory(logs, v["run-id"]);
    return { dotFile: file, resumeDir: v.resume };
  }
  const [run, choice, extra] = positionals;
  if (!run) throw new UsageError("needs a run");
  if (command === "resume" && choice) throw new UsageError("takes one run");
  if (command === "answer" && (!choice || extra)) {
    throw new UsageError("needs a run and a choice");
  }
  const where = await locateRun(run);
  return { ...where, choice };
}

/** What a run id may be: one path segment of ordinary characters. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A run id names the run's directory under `.forge/runs/` and is printed in
 * commands to paste back: one path segment of ordinary characters, so it can
 * neither escape that folder nor land in a parent one.
 */
function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new UsageError(
      `--run-id ${JSON.stringify(runId)} is not a run id: use 1–128 letters, digits, '.', '_' ` +
        "or '-', starting with a letter or digit",
    );
  }
}

/**
 * A new run never writes into a directory that already records a run: its
 * manifest and checkpoint would be replaced and its stage folders mixed with
 * the new run's. (The run id's own folder when `--logs` is not given.)
 */
async function refuseRecordedRunDirectory(dir: string, runId: string | undefined): Promise<void> {
  for (const file of ["manifest.json", "checkpoint.json"]) {
    if (!(await pathExists(join(dir, file)))) continue;
    throw new UsageError(
      `${dir} already holds a run (${file}); continue it with: forge resume ${dir}` +
        (runId === undefined ? "" : `, or start a new run under another --run-id`),
    );
  }
}

/** A run resumed from the store writes its files into `dir` only if `dir` holds no other run. */
async function refuseOtherRunDirectory(dir: string, runId: string): Promise<void> {
  if (!(await pathExists(join(dir, "manifest.json")))) return;
  const other = await readManifest(dir).then((m) => m.run_id, () => "an unreadable manifest");
  if (other !== runId) {
    throw new UsageError(
      `${dir} holds another run (${other}); resume run ${runId} into its own directory ` +
        `(--logs DIR naming a new or its own directory)`,
    );
  }
}

/**
 * The run directory of a run found in the store (by run id or context id),
 * when one still holds that run: continuing the run anywhere else would
 * split it over two directories, the older one's checkpoint left behind
 * (and, resumed later, winning over the store's as a hand edit). First the
 * directory its records name (run_lifecycle v3, wherever `--logs` put it);
 * when they name none (recorded before they did), or it is gone or holds
 * another run now, the default `.forge/runs/<run id>` if it holds this run.
 * Undefined otherwise: the run continues from the store alone, into
 * `.forge/runs/<run id>` (as the CLI always did for a run found in the store).
 */
async function ownRunDirectory(
  store: ForgeStore,
  contextId: string,
  runId: string | undefined,
): Promise<string | undefined> {
  const recorded = await recordedRunDirectory(store, contextId);
  if (recorded !== undefined && (await holdsRun(recorded, contextId))) return recorded;
  runId ??= (await readRun(store, contextId))?.runId;
  if (runId === undefined || !RUN_ID.test(runId)) return undefined;
  const fallback = join(".forge", "runs", runId);
  return (await holdsRun(fallback, contextId)) ? fallback : undefined;
}

/** Whether `dir`'s manifest records the run of store context `contextId`. */
async function holdsRun(dir: string, contextId: string): Promise<boolean> {
  const manifest = await readManifest(dir).catch(() => undefined);
  return manifest?.context_id === contextId;
}

/** A run named by a directory, by a run id under .forge/runs, or by a store context id. */
async function locateRun(run: string): Promise<Plan> {
  for (const dir of [run, join(".forge", "runs", run)]) {
    if (await isFile(join(dir, "manifest.json"))) return { resumeDir: dir };
  }
  if (/^[0-9]+$/.test(run)) return { contextId: run };
  return { runId: run };
}

/** Prints a prepared pipeline's warnings and errors (unless quiet); throws when it cannot run. */
function checked(
  prepared: ReturnType<typeof preparePipeline>,
  file: string,
  quiet: boolean,
  io: CliIo,
): ReturnType<typeof preparePipeline> {
  for (const d of prepared.diagnostics) {
    if (d.severity !== "info" && !quiet) io.err(formatDiagnostic(d, file));
  }
  assertRunnable(prepared);
  return prepared;
}

/**
 * A run directory's resume point; the library refuses a store that does not
 * hold the directory's run before anything is written, and the CLI adds how
 * to continue it instead.
 */
async function resumeFromDirectory(
  dir: string,
  store: ForgeStore | undefined,
  storeUrl: string,
): Promise<ResumePoint> {
  try {
    return await resumePointFromDirectory(dir, store, { storeLabel: storeUrl });
  } catch (error) {
    if (!(error instanceof RunNotInStoreError)) throw error;
    const manifest = await readManifest(dir).catch(() => undefined);
    throw withRemedy(error, manifest?.store ?? null);
  }
}

function requireStore(store: ForgeStore | undefined): ForgeStore {
  if (!store) {
    throw new UsageError(
      `continuing a run found in the store needs the store (not --persistence off)`,
    );
  }
  return store;
}

async function readDot(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${fileProblem(error)}`);
  }
}

/**
 * The agent behind codergen stages: the configured model, its tools in the
 * default environment (every tool inside bubblewrap where it works, no shell
 * where it does not), closed with the backend.
 */
async function agentBackend(
  store: ForgeStore | undefined,
  persistence: string,
): Promise<CodergenBackend> {
  let provider;
  try {
    provider = createProviderFromEnv();
  } catch (error) {
    throw new UsageError(
      `no LLM provider is configured (${
        (error as Error).message
      }); set a provider key or pass --simulate`,
    );
  }
  const profile = provider.name.includes("anthropic") ? anthropicProfile() : openaiProfile();
  const env = await defaultEnvironment(Deno.cwd());
  const agent = new AgentBackend({
    provider,
    profile,
    env,
    store,
    persistence: persistence as "off" | "best_effort" | "required",
  });
  return {
    run: (request) => agent.run(request),
    close: async () => {
      await agent.close();
      await env.close();
    },
  };
}

function report(
  result: RunResult,
  io: CliIo,
  quiet: boolean,
  stoppedBy: Deno.Signal | undefined,
  storeUrl: string,
  persistence: string,
  logsRoot: string,
): number {
  // How to name the run again: its id finds .forge/runs/<id>; a run directory
  // elsewhere (--logs) is named by its path (its manifest names the store).
  const ref = logsRoot === resolve(".forge", "runs", result.runId)
    ? result.runId
    : shellWord(relativeOrAbsolute(logsRoot));
  const ctxNote = result.contextIds.length && persistence !== "off"
    ? ` (store ${storeUrl}, context ${result.contextIds.at(-1)})`
    : "";
  switch (result.status) {
    case "success":
    case "partial_success":
      if (!quiet) io.out(`run ${result.runId} ${result.status}${ctxNote}`);
      return 0;
    case "fail":
      io.err(`run ${result.runId} failed: ${result.failureReason ?? "unknown reason"}`);
      return 1;
    case "waiting": {
      const w = result.waiting!;
      io.out(`run ${result.runId} is waiting at ${w.nodeId}: ${w.question}`);
      for (const o of w.options) io.out(`  - ${o}`);
      io.out(
        `answer with: forge answer ${ref} <choice>${
          ctxNote
            ? `   (or: forge answer ${result.contextIds.at(-1)} <choice> --store ${storeUrl})`
            : ""
        }`,
      );
      return 3;
    }
    case "cancelled":
      io.err(
        `run ${result.runId} stopped${
          stoppedBy ? ` by ${stoppedBy}` : ""
        }; resume with: forge resume ${ref}`,
      );
      return stoppedBy === "SIGINT" ? 130 : 143;
  }
}

/** `path` relative to the working directory when it is inside it, else as is. */
function relativeOrAbsolute(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** `word` quoted for a POSIX shell when it holds anything but ordinary path characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._/:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
