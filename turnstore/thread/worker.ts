/**
 * The store's own thread: opens a backend by URL, runs the calls the
 * {@link ThreadStore} forwards, and answers. Every call of a `calls` message
 * is started in the same tick, in order, so a backend's group commit batches
 * them exactly as it would on the caller's thread; answers (and kv commit
 * reports) ready together go back as one message.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { ForgeStore } from "../core/types.ts";
import type { CommitStats } from "../kv/budget.ts";
import { openKvStore } from "../kv/mod.ts";
import { openTurnStore } from "../open.ts";
import type { Answer, Call, CompactAppend, FromWorker, ToWorker } from "./protocol.ts";
import { STORE_METHODS } from "./protocol.ts";
import { toWireError } from "./wire_errors.ts";

// Typed by hand rather than with `/// <reference lib="deno.worker" />`, which
// would change the global types of every module checked with this one.
const port = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
};

const KNOWN: ReadonlySet<string> = new Set(STORE_METHODS);

let store: ForgeStore | undefined;
let label = "store thread";
let answers: Answer[] = [];
let commits: CommitStats[] = [];
let flushScheduled = false;
const inFlight = new Set<Promise<void>>();

function flush(): void {
  flushScheduled = false;
  if (answers.length === 0 && commits.length === 0) return;
  const message: FromWorker = commits.length > 0
    ? { t: "answers", answers, commits }
    : { t: "answers", answers };
  answers = [];
  commits = [];
  try {
    port.postMessage(message);
  } catch {
    postOneByOne(message);
  }
}

/** A batch that does not clone goes answer by answer; one that still fails is a Backend error. */
function postOneByOne(message: Extract<FromWorker, { t: "answers" }>): void {
  if (message.commits) port.postMessage({ t: "answers", answers: [], commits: message.commits });
  for (const entry of message.answers) {
    try {
      port.postMessage({ t: "answers", answers: [entry] });
    } catch (error) {
      port.postMessage({
        t: "answers",
        answers: [[entry[0], 1, toWireError(error, `${label}: its answer could not be sent`)]],
      });
    }
  }
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  // Once the microtasks drain: the calls one commit settles finish their promise
  // chains several microtasks apart, and their answers belong in one message.
  setImmediate(flush);
}

function answer(entry: Answer): void {
  answers.push(entry);
  scheduleFlush();
}

function compactAppend(turn: {
  contextId: string;
  turnId: string;
  parentTurnId: string;
  depth: number;
  contentHash: string;
  deduplicated: boolean;
}): CompactAppend {
  return [
    turn.contextId,
    turn.turnId,
    turn.parentTurnId,
    turn.depth,
    turn.contentHash,
    turn.deduplicated,
  ];
}

function run([id, method, args]: Call): void {
  let result: Promise<unknown>;
  try {
    if (!store) throw new Error("the store is not open");
    if (!KNOWN.has(method)) throw new Error(`unknown method ${String(method)}`);
    const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    result = Promise.resolve(fn.apply(store, args as unknown[]));
  } catch (error) {
    result = Promise.reject(error);
  }
  const settled = result.then(
    (value) =>
      answer([
        id,
        0,
        method === "appendTurn"
          ? compactAppend(value as Parameters<typeof compactAppend>[0])
          : value,
      ]),
    (error) => answer([id, 1, toWireError(error, `${label} ${method}`)]),
  );
  inFlight.add(settled);
  settled.finally(() => inFlight.delete(settled));
}

async function open(url: string, countCommits: boolean): Promise<void> {
  label = `store ${url}`;
  try {
    const onCommit = countCommits
      ? (stats: CommitStats) => {
        commits.push(stats);
        scheduleFlush();
      }
      : undefined;
    store = url.startsWith("kv:") && onCommit
      ? await openKvStore(url.slice(3), { onCommit })
      : await openTurnStore(url);
    port.postMessage({ t: "opened", backend: store.backend });
  } catch (error) {
    port.postMessage({ t: "open_failed", error: toWireError(error, `opening ${label}`) });
  }
}

async function close(): Promise<void> {
  // Whatever was sent before close runs to its answer first.
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  let error;
  try {
    await store?.close();
  } catch (e) {
    error = toWireError(e, `closing ${label}`);
  }
  flush();
  port.postMessage(error ? { t: "closed", error } : { t: "closed" });
  port.close();
}

port.onmessage = (e) => {
  const message = e.data;
  switch (message.t) {
    case "calls":
      for (const call of message.calls) run(call);
      break;
    case "open":
      void open(message.url, message.countCommits);
      break;
    case "close":
      void close();
      break;
  }
};
port.postMessage({ t: "ready" });
