/**
 * A {@link ForgeStore} whose backend runs on its own thread (a worker thread):
 * the caller's thread only encodes calls and decodes answers, while the
 * backend's work (hashing, planning, Deno KV's commit op, the fs log's writes
 * and syncs) runs beside it.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { Worker } from "node:worker_threads";
import { BackendError, InvalidInputError, UnsupportedError } from "../core/errors.ts";
import type {
  AppendedTurn,
  AppendTurnInput,
  ContextHead,
  ContextSummary,
  CreateContextOptions,
  ForgeStore,
  ListContextsOptions,
  ListTurnsOptions,
  PublishBundleResult,
  PutBlobResult,
  StoredTurn,
} from "../core/types.ts";
import type { ContextId, TurnId } from "../core/ids.ts";
import type { RegistryBundle } from "../registry/bundle.ts";
import type { CommitObserver } from "../kv/budget.ts";
import {
  ANSWER_APPENDED,
  ANSWER_FAILED,
  type AnswerEntry,
  type CallEntry,
  type FromWorker,
  PACKED_APPEND,
  STORE_METHODS,
  type StoreMethod,
  type ToWorker,
} from "./protocol.ts";
import { PayloadPacker } from "./packer.ts";
import { fromWireError } from "./wire_errors.ts";

/** The URL schemes a store thread opens: the built-in backends. */
export const THREAD_SCHEMES: readonly string[] = ["memory:", "kv:", "fs:"];

/** Options of {@link openThreadStore}. */
export interface ThreadStoreOptions {
  /**
   * Called after every atomic commit of a `kv:` backend, with what it
   * carried, before the answers that commit settles (other backends report
   * none). Reports travel with the answers, so they cost no extra message.
   */
  readonly onCommit?: CommitObserver;
  /** The worker module to run; the default is this folder's `worker.ts`. For tests. */
  readonly workerUrl?: URL;
}

/** Messages and calls that crossed the thread boundary so far. */
export interface ThreadTraffic {
  /** Calls forwarded to the worker. */
  readonly calls: number;
  /** Messages posted to the worker (calls of one tick share one). */
  readonly sent: number;
  /** Messages received from the worker (answers of one tick share one). */
  readonly received: number;
}

interface Pending {
  readonly method: StoreMethod;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** An append on the packed path: what its answer needs from the call. */
  readonly append?: { readonly input: AppendTurnInput; readonly payload: Uint8Array };
}

const METHOD_INDEX = new Map<string, number>(STORE_METHODS.map((m, i) => [m, i]));

/** True when every field of `input` survives JSON as it is. */
function packable(input: AppendTurnInput): boolean {
  return typeof input === "object" && input !== null && input.payload instanceof Uint8Array &&
    typeof input.contextId === "string" && typeof input.typeId === "string" &&
    Number.isFinite(input.typeVersion) && optionalString(input.idempotencyKey) &&
    optionalString(input.parentTurnId) && optionalString(input.fsRootHash);
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

type State = "opening" | "open" | "closing" | "closed" | "dead";

/**
 * Opens the store `url` names (`memory:`, `kv:…`, `fs:…`) on its own thread.
 * Fails with the backend's own typed error when it cannot open, with
 * Unsupported for another scheme, and with a Backend error naming the URL
 * when the thread cannot start.
 */
export function openThreadStore(
  url: string,
  options: ThreadStoreOptions = {},
): Promise<ThreadStore> {
  return ThreadStore.open(url, options);
}

/**
 * The proxy: every {@link ForgeStore} method is forwarded as plain data and
 * answered by the backend in the worker. Calls made in one tick leave in one
 * message and start in the worker in call order, in one tick, so appends keep
 * their order and a group-commit backend batches them as it would here;
 * errors come back as the same typed classes. `backend` names the backend
 * that runs in the worker.
 */
export class ThreadStore implements ForgeStore {
  /** The URL the backend was opened from. */
  readonly url: string;
  readonly #worker: Worker;
  readonly #label: string;
  readonly #onCommit?: CommitObserver;
  readonly #pending = new Map<number, Pending>();
  #backend = "";
  #state: State = "opening";
  #outbox: CallEntry[] = [];
  #extras: unknown[] = [];
  #transfers: ArrayBuffer[] = [];
  readonly #packer = new PayloadPacker();
  #flushQueued = false;
  #nextId = 1;
  #calls = 0;
  #sent = 0;
  #received = 0;
  #death?: string;
  #opening = Promise.withResolvers<void>();
  #closing?: PromiseWithResolvers<void>;

  private constructor(url: string, worker: Worker, options: ThreadStoreOptions) {
    this.url = url;
    this.#label = `store thread ${url}`;
    this.#worker = worker;
    this.#onCommit = options.onCommit;
    worker.on("message", (message: FromWorker) => this.#receive(message));
    // The worker's failure is ours to report, not the process's to die of.
    worker.on("error", (error: Error) => this.#die(`died: ${error?.message ?? String(error)}`));
    worker.on("messageerror", () => this.#die("sent a message that could not be read"));
    worker.on("exit", (code: number) => this.#die(`exited (code ${code})`));
  }

  /** Starts the worker and opens the backend in it; see {@link openThreadStore}. */
  static async open(url: string, options: ThreadStoreOptions = {}): Promise<ThreadStore> {
    if (typeof url !== "string" || url.length === 0) {
      throw new InvalidInputError(`a store URL must be a non-empty string, got ${String(url)}`);
    }
    const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
    if (!THREAD_SCHEMES.includes(scheme)) {
      throw new UnsupportedError(
        `store URL ${JSON.stringify(url)} cannot be opened on its own thread ` +
          `(schemes that can: ${THREAD_SCHEMES.join(" ")})`,
      );
    }
    let worker: Worker;
    try {
      worker = new Worker(options.workerUrl ?? new URL("./worker.ts", import.meta.url), {
        name: `forge store ${url}`,
      });
    } catch (error) {
      throw new BackendError(
        `cannot start the store thread for ${url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const store = new ThreadStore(url, worker, options);
    await store.#opening.promise;
    return store;
  }

  /** The backend running in the worker: "memory", "kv" or "fs". */
  get backend(): string {
    return this.#backend;
  }

  /** Calls and messages that crossed the thread boundary so far. */
  get traffic(): ThreadTraffic {
    return { calls: this.#calls, sent: this.#sent, received: this.#received };
  }

  /** Creates a context in the worker's backend. */
  createContext(options?: CreateContextOptions): Promise<ContextHead> {
    return this.#call("createContext", options === undefined ? [] : [options]);
  }

  /** Forks a context at `turnId`. */
  forkContext(turnId: TurnId): Promise<ContextHead> {
    return this.#call("forkContext", [turnId]);
  }

  /**
   * Appends a turn. The payload is copied now, so the bytes stored are the
   * bytes at the call even if the caller reuses its buffer; that copy is the
   * returned turn's payload (the answer carries none back).
   */
  appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    if (!packable(input)) return this.#call("appendTurn", [input]);
    if (this.#state !== "open") return this.#refuse("appendTurn");
    const [buffer, offset, payload] = this.#packer.add(input.payload);
    const [id, promise] = this.#enqueue<AppendedTurn>("appendTurn", { input, payload });
    this.#outbox.push([
      id,
      PACKED_APPEND,
      input.contextId,
      input.typeId,
      input.typeVersion,
      buffer,
      offset,
      payload.length,
      input.idempotencyKey ?? null,
      input.parentTurnId ?? null,
      input.fsRootHash ?? null,
    ]);
    return promise;
  }

  /** The context's head. */
  getHead(contextId: ContextId): Promise<ContextHead> {
    return this.#call("getHead", [contextId]);
  }

  /** A page of the context's history. */
  listTurns(contextId: ContextId, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    return this.#call("listTurns", options === undefined ? [contextId] : [contextId, options]);
  }

  /** One turn by id. */
  getTurn(turnId: TurnId): Promise<StoredTurn> {
    return this.#call("getTurn", [turnId]);
  }

  /** A page of contexts, newest first. */
  listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    return this.#call("listContexts", options === undefined ? [] : [options]);
  }

  /** Stores a blob; its bytes are copied now and the copy is handed to the worker. */
  putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    if (!(bytes instanceof Uint8Array)) return this.#call("putBlob", [bytes]);
    const copy = bytes.slice();
    return this.#call("putBlob", [copy], copy.buffer);
  }

  /** A blob's bytes. */
  getBlob(hash: string): Promise<Uint8Array> {
    return this.#call("getBlob", [hash]);
  }

  /** Whether a blob is stored. */
  hasBlob(hash: string): Promise<boolean> {
    return this.#call("hasBlob", [hash]);
  }

  /** Attaches a tree root to a turn. */
  attachFs(turnId: TurnId, rootHash: string): Promise<void> {
    return this.#call("attachFs", [turnId, rootHash]);
  }

  /** A turn's tree root, its own or inherited. */
  getFsRoot(turnId: TurnId): Promise<string | undefined> {
    return this.#call("getFsRoot", [turnId]);
  }

  /** Publishes a registry bundle. */
  publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    return this.#call("publishRegistryBundle", [bundle]);
  }

  /** A published registry bundle, or undefined. */
  getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    return this.#call("getRegistryBundle", [bundleId]);
  }

  /**
   * Sends the calls not yet sent, lets every call already made finish, closes
   * the backend in the worker and ends the worker. Later calls fail with a
   * Backend error; closing again is harmless. Rejects with the backend's
   * error when its close failed, or with a Backend error when the thread died.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing.promise;
    this.#closing = Promise.withResolvers<void>();
    if (this.#state === "dead") {
      this.#closing.reject(this.#deathError("close"));
    } else {
      this.#state = "closing";
      this.#worker.ref(); // until the worker says it closed
      this.#flush();
      this.#post({ t: "close" });
    }
    return this.#closing.promise;
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Any call but a packed append: its arguments travel by structured clone. */
  #call<T>(method: StoreMethod, args: unknown[], transfer?: ArrayBuffer): Promise<T> {
    if (this.#state !== "open") return this.#refuse(method);
    const [id, promise] = this.#enqueue<T>(method);
    this.#outbox.push([id, METHOD_INDEX.get(method)!, this.#extras.push(args) - 1]);
    if (transfer) this.#transfers.push(transfer);
    return promise;
  }

  #refuse<T>(method: string): Promise<T> {
    return Promise.reject(
      this.#state === "dead"
        ? this.#deathError(method)
        : new BackendError(`${this.#label} is closed (${method})`),
    );
  }

  /** Registers a call's promise and makes sure this tick's calls will be sent. */
  #enqueue<T>(method: StoreMethod, append?: Pending["append"]): [number, Promise<T>] {
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#worker.ref(); // an answer is owed: keep the process up
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, append });
    if (!this.#flushQueued) {
      // After the microtasks drain, not at the next one: a caller that refills a
      // window as answers are confirmed (the record writer) issues across many
      // microtasks of one turn of the event loop, and those calls belong together.
      this.#flushQueued = true;
      setImmediate(this.#flush);
    }
    return [id, promise];
  }

  /** Posts the calls of this tick as one message. */
  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#outbox.length === 0 || this.#state === "dead") return;
    const calls = this.#outbox;
    const extras = this.#extras;
    const transfers = this.#transfers;
    const buffers = this.#packer.take();
    this.#outbox = [];
    this.#extras = [];
    this.#transfers = [];
    this.#calls += calls.length;
    const message: ToWorker = { t: "calls", json: JSON.stringify(calls), buffers, extras };
    try {
      // The packed buffers are copies made for this message: hand them over.
      this.#post(message, [...buffers, ...transfers]);
    } catch {
      this.#postOneByOne(calls, extras);
    }
  };

  /**
   * Some argument does not clone: send the calls one by one and refuse only the
   * bad ones. (The failed post may have detached the packed buffers, so a
   * packed append goes again with a copy of its payload.)
   */
  #postOneByOne(calls: CallEntry[], extras: readonly unknown[]): void {
    for (const call of calls) {
      const pending = this.#pending.get(call[0]);
      if (!pending) continue;
      try {
        if (call[1] === PACKED_APPEND) {
          const entry = [...call];
          entry[5] = 0; // buffer
          entry[6] = 0; // offset
          this.#post({
            t: "calls",
            json: JSON.stringify([entry]),
            buffers: [pending.append!.payload.slice().buffer],
            extras: [],
          });
        } else {
          this.#post({
            t: "calls",
            json: JSON.stringify([[call[0], call[1], 0]]),
            buffers: [],
            extras: [extras[call[2] as number]],
          });
        }
      } catch (error) {
        this.#pending.delete(call[0]);
        pending.reject(
          new InvalidInputError(
            `${pending.method}: an argument cannot be sent to ${this.#label}: ${
              (error as Error).message
            }`,
            { cause: error },
          ),
        );
      }
    }
  }

  #settle(entry: AnswerEntry, extras: readonly unknown[] | undefined): void {
    const pending = this.#pending.get(entry[0]);
    if (!pending) return;
    this.#pending.delete(entry[0]);
    // Idle: a store nobody closes must not keep the process alive (the backend on
    // the caller's thread would not).
    if (this.#pending.size === 0 && this.#state === "open") this.#worker.unref();
    if (entry[1] === ANSWER_FAILED) return pending.reject(fromWireError(entry[2]));
    if (entry[1] !== ANSWER_APPENDED) return pending.resolve(extras![entry[2]]);
    const [, , contextId, turnId, parentTurnId, depth, contentHash, deduplicated] = entry;
    const { input, payload } = pending.append!; // only packed appends are answered so
    pending.resolve(
      {
        turnId,
        parentTurnId,
        depth,
        typeId: input.typeId,
        typeVersion: input.typeVersion,
        payload,
        contentHash,
        contextId,
        deduplicated,
      } satisfies AppendedTurn,
    );
  }

  #post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(message, transfer?.length ? transfer : undefined);
    this.#sent++;
  }

  #receive(message: FromWorker): void {
    this.#received++;
    switch (message.t) {
      case "answers": {
        if (message.commits && this.#onCommit) {
          for (const stats of message.commits) this.#onCommit(stats);
        }
        const entries = JSON.parse(message.json) as AnswerEntry[];
        for (const entry of entries) this.#settle(entry, message.extras);
        break;
      }
      case "ready":
        this.#post({ t: "open", url: this.url, countCommits: this.#onCommit !== undefined });
        break;
      case "opened":
        this.#backend = message.backend;
        this.#state = "open";
        if (this.#pending.size === 0) this.#worker.unref();
        this.#opening.resolve();
        break;
      case "open_failed":
        this.#state = "closed";
        this.#worker.terminate();
        this.#opening.reject(fromWireError(message.error));
        break;
      case "closed":
        this.#state = "closed";
        this.#worker.terminate();
        this.#failPending(() => new BackendError(`${this.#label} closed before it answered`));
        if (message.error) this.#closing?.reject(fromWireError(message.error));
        else this.#closing?.resolve();
        break;
    }
  }

  /** The worker is gone: every waiting call, the opening and a close learn why. */
  #die(reason: string): void {
    if (this.#state === "closed" || this.#state === "dead") return;
    const opening = this.#state === "opening";
    this.#state = "dead";
    this.#death = reason;
    this.#worker.terminate();
    this.#outbox = [];
    this.#extras = [];
    this.#transfers = [];
    this.#packer.take();
    if (opening) {
      this.#opening.reject(
        new BackendError(`cannot open ${this.url} on its own thread: the thread ${reason}`),
      );
    }
    this.#failPending((method) => this.#deathError(method));
    this.#closing?.reject(this.#deathError("close"));
  }

  #failPending(error: (method: StoreMethod) => Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) call.reject(error(call.method));
  }

  #deathError(method: string): BackendError {
    return new BackendError(`${this.#label} ${this.#death} (${method})`);
  }
}
