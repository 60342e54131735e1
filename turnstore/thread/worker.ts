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
import { parentPort } from "node:worker_threads";
import type { AppendedTurn, AppendTurnInput, ForgeStore } from "../core/types.ts";
import type { CommitStats } from "../kv/budget.ts";
import { openKvStore } from "../kv/mod.ts";
import { openTurnStore } from "../open.ts";
import {
  ANSWER_APPENDED,
  ANSWER_FAILED,
  ANSWER_VALUE,
  type AnswerEntry,
  type CallEntry,
  type CloneCall,
  type FromWorker,
  PACKED_APPEND,
  type PackedAppend,
  STORE_METHODS,
  type ToWorker,
} from "./protocol.ts";
import { toWireError } from "./wire_errors.ts";

if (!parentPort) throw new Error("turnstore/thread/worker.ts runs only as a worker thread");
const port = parentPort;

type Method = (...args: unknown[]) => Promise<unknown>;

let store: ForgeStore | undefined;
let label = "store thread";
let answers: AnswerEntry[] = [];
let extras: unknown[] = [];
let commits: CommitStats[] = [];
let flushScheduled = false;
let inFlight = 0;
let idle: (() => void) | undefined;

function flush(): void {
  flushScheduled = false;
  if (answers.length === 0 && commits.length === 0) return;
  const message: FromWorker = {
    t: "answers",
    json: JSON.stringify(answers),
    extras: extras.length > 0 ? extras : undefined,
    commits: commits.length > 0 ? commits : undefined,
  };
  const sent = answers;
  answers = [];
  extras = [];
  commits = [];
  try {
    port.postMessage(message);
  } catch (error) {
    // A value that does not clone: its call fails with a Backend error; the rest go as usual.
    postOneByOne(sent, message, error);
  }
}

function postOneByOne(
  sent: AnswerEntry[],
  message: Extract<FromWorker, { t: "answers" }>,
  cause: unknown,
): void {
  if (message.commits) port.postMessage({ t: "answers", json: "[]", commits: message.commits });
  for (const entry of sent) {
    try {
      if (entry[1] !== ANSWER_VALUE) {
        port.postMessage({ t: "answers", json: JSON.stringify([entry]) });
      } else {
        port.postMessage({
          t: "answers",
          json: JSON.stringify([[entry[0], ANSWER_VALUE, 0]]),
          extras: [message.extras![entry[2]]],
        });
      }
    } catch {
      const error = toWireError(cause, `${label}: an answer could not be sent back`);
      port.postMessage({ t: "answers", json: JSON.stringify([[entry[0], ANSWER_FAILED, error]]) });
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

function settled(): void {
  if (--inFlight === 0 && idle) idle();
}

function appended(id: number, turn: AppendedTurn): void {
  answers.push([
    id,
    ANSWER_APPENDED,
    turn.contextId,
    turn.turnId,
    turn.parentTurnId,
    turn.depth,
    turn.contentHash,
    turn.deduplicated,
  ]);
  scheduleFlush();
  settled();
}

function answered(id: number, value: unknown): void {
  answers.push([id, ANSWER_VALUE, extras.push(value) - 1]);
  scheduleFlush();
  settled();
}

function failed(id: number, method: string, error: unknown): void {
  answers.push([id, ANSWER_FAILED, toWireError(error, `${label} ${method}`)]);
  scheduleFlush();
  settled();
}

function unpack(entry: PackedAppend, buffers: readonly ArrayBuffer[]): AppendTurnInput {
  const [, , contextId, typeId, typeVersion, buffer, offset, length, key, parent, fsRoot] = entry;
  const payload = new Uint8Array(buffers[buffer], offset, length);
  const input: {
    -readonly [K in keyof AppendTurnInput]: AppendTurnInput[K];
  } = { contextId, typeId, typeVersion, payload };
  if (key !== null) input.idempotencyKey = key;
  if (parent !== null) input.parentTurnId = parent;
  if (fsRoot !== null) input.fsRootHash = fsRoot;
  return input;
}

function run(entry: CallEntry, buffers: readonly ArrayBuffer[], args: readonly unknown[]): void {
  const id = entry[0];
  inFlight++;
  if (entry[1] === PACKED_APPEND) {
    let result: Promise<AppendedTurn>;
    try {
      result = store!.appendTurn(unpack(entry as PackedAppend, buffers));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then((turn) => appended(id, turn), (error) => failed(id, "appendTurn", error));
    return;
  }
  const [, index, extra] = entry as CloneCall;
  const method = STORE_METHODS[index];
  let result: Promise<unknown>;
  try {
    const fn = (store as unknown as Record<string, Method>)[method];
    result = Promise.resolve(fn.apply(store, args[extra] as unknown[]));
  } catch (error) {
    result = Promise.reject(error);
  }
  // An append that was not packed is answered whole, like any other call.
  result.then((value) => answered(id, value), (error) => failed(id, method, error));
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
  if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
  let error;
  try {
    await store?.close();
  } catch (e) {
    error = toWireError(e, `closing ${label}`);
  }
  flush();
  port.postMessage(error ? { t: "closed", error } satisfies FromWorker : { t: "closed" });
}

port.on("message", (message: ToWorker) => {
  switch (message.t) {
    case "calls": {
      const entries = JSON.parse(message.json) as CallEntry[];
      for (const entry of entries) run(entry, message.buffers, message.extras);
      break;
    }
    case "open":
      void open(message.url, message.countCommits);
      break;
    case "close":
      void close();
      break;
  }
});
port.postMessage({ t: "ready" } satisfies FromWorker);
