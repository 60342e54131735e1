/**
 * Failure injection for the writer's tests: a store that wraps any real
 * backend and fails chosen appends, before or after the write (a lost
 * acknowledgement), the three real backends to run against, and a one-field
 * note record with a writer for it.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";
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
import type { RegistryBundle } from "../registry/bundle.ts";
import { MemoryStore } from "../memory/store.ts";
import { openKvStore } from "../kv/mod.ts";
import { openFsStore } from "../fs/mod.ts";
import { contentAddressedBundle, RecordCatalog } from "../records/bundle.ts";
import { defineRecord } from "../records/record.ts";
import { f } from "../records/fields.ts";
import { idempotencyKey } from "../records/idempotency.ts";
import { RecordWriter, type RecordWriterOptions } from "./mod.ts";

/** How an injected failure strikes. */
export type FailureKind = "before_write" | "after_write";

/** Wraps a store; its appends and context calls fail on demand with a Backend error. */
export class FlakyStore implements ForgeStore {
  /** Append calls seen, including failed ones. */
  appendCalls = 0;
  /** Idempotency keys of every append call, in order. */
  readonly keys: (string | undefined)[] = [];
  /** Fail append calls whose 1-based number is in this set. */
  readonly failCalls = new Set<number>();
  /** When true, every append fails. */
  failAll = false;
  /** When true, createContext and forkContext fail. */
  failContexts = false;
  /** Whether a failure happens before the write or after it. */
  failureKind: FailureKind = "before_write";
  /** The error to throw instead of a Backend error, when set. */
  error?: Error;
  /** Bundles published through this handle. */
  readonly published: string[] = [];
  /**
   * The append calls in runs: each entry counts the calls made together, in
   * one synchronous stretch of the caller (the writer hands a release over
   * in one such run).
   */
  readonly appendRuns: number[] = [];
  #inRun = false;

  /** Wraps `inner`; it is closed with this store. */
  constructor(readonly inner: ForgeStore) {}

  /** The inner backend's name. */
  get backend(): string {
    return this.inner.backend;
  }

  /** Appends, or fails as configured. */
  async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    if (!this.#inRun) {
      this.#inRun = true;
      this.appendRuns.push(0);
      queueMicrotask(() => this.#inRun = false);
    }
    this.appendRuns[this.appendRuns.length - 1]++;
    const n = ++this.appendCalls;
    this.keys.push(input.idempotencyKey);
    const fail = this.failAll || this.failCalls.has(n);
    if (fail && this.failureKind === "before_write") {
      throw this.error ?? new BackendError(`injected failure of append #${n}`);
    }
    const turn = await this.inner.appendTurn(input);
    if (fail) throw this.error ?? new BackendError(`injected lost acknowledgement of append #${n}`);
    return turn;
  }

  /** Creates a context, or fails as configured. */
  createContext(options?: CreateContextOptions): Promise<ContextHead> {
    if (this.failContexts) return Promise.reject(new BackendError("injected context failure"));
    return this.inner.createContext(options);
  }

  /** Forks a context, or fails as configured. */
  forkContext(turnId: string): Promise<ContextHead> {
    if (this.failContexts) return Promise.reject(new BackendError("injected context failure"));
    return this.inner.forkContext(turnId);
  }

  /** Publishes and remembers the bundle id. */
  publishRegistryBundle(bundle: RegistryBundle): Promise<PublishBundleResult> {
    this.published.push(bundle.bundle_id);
    return this.inner.publishRegistryBundle(bundle);
  }

  getHead(contextId: string): Promise<ContextHead> {
    return this.inner.getHead(contextId);
  }
  listTurns(contextId: string, options?: ListTurnsOptions): Promise<StoredTurn[]> {
    return this.inner.listTurns(contextId, options);
  }
  getTurn(turnId: string): Promise<StoredTurn> {
    return this.inner.getTurn(turnId);
  }
  listContexts(options?: ListContextsOptions): Promise<ContextSummary[]> {
    return this.inner.listContexts(options);
  }
  putBlob(bytes: Uint8Array): Promise<PutBlobResult> {
    return this.inner.putBlob(bytes);
  }
  getBlob(hash: string): Promise<Uint8Array> {
    return this.inner.getBlob(hash);
  }
  hasBlob(hash: string): Promise<boolean> {
    return this.inner.hasBlob(hash);
  }
  attachFs(turnId: string, rootHash: string): Promise<void> {
    return this.inner.attachFs(turnId, rootHash);
  }
  getFsRoot(turnId: string): Promise<string | undefined> {
    return this.inner.getFsRoot(turnId);
  }
  getRegistryBundle(bundleId: string): Promise<RegistryBundle | undefined> {
    return this.inner.getRegistryBundle(bundleId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A real backend to test against, and how to clean up after it. */
export interface Backend {
  /** "memory", "kv" or "fs". */
  readonly name: string;
  /** Opens a fresh, empty store. */
  open(): Promise<{ store: ForgeStore; cleanup: () => Promise<void> }>;
}

/** Memory, Deno KV in a temp file, and the fs log in a temp dir (group commit). */
export const BACKENDS: readonly Backend[] = [
  {
    name: "memory",
    open: () => Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
  },
  {
    name: "kv",
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "forge-writer-kv-" });
      const store = await openKvStore(`${dir}/writer.kv`);
      return { store, cleanup: () => Deno.remove(dir, { recursive: true }) };
    },
  },
  {
    name: "fs",
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "forge-writer-fs-" });
      const store = await openFsStore(`${dir}?durability=group`);
      return { store, cleanup: () => Deno.remove(dir, { recursive: true }) };
    },
  },
];

/**
 * A `Deno.test` that runs `fn` on a fresh store of `backend` behind a
 * {@link FlakyStore}, named `name` plus `suffix`, and closes and cleans up
 * after it however it ends.
 */
export function backendTest(
  backend: Backend,
  suffix: string,
): (name: string, fn: (store: FlakyStore) => Promise<void>) => void {
  return (name, fn) =>
    Deno.test(name + suffix, async () => {
      const { store, cleanup } = await backend.open();
      const flaky = new FlakyStore(store);
      try {
        await fn(flaky);
      } finally {
        await flaky.close();
        await cleanup();
      }
    });
}

/** A hold that only its count ends within a test: time never releases it. */
export const byCount = (maxRecords: number) => ({ maxMs: 60_000, maxRecords });

/**
 * A note record (`test.<name>.note`, one text field) and what a test of the
 * writer does with it: a writer in mode `required` named `label` with 3
 * quick tries (and the note's bundle when `bundle` is set), and the texts a
 * context holds.
 */
export function noteKit(name: string, { bundle = false, label = `job ${name}` } = {}) {
  const Note = defineRecord({
    typeId: `test.${name}.note`,
    version: 1,
    fields: { text: f.string(1) },
  });
  const catalog = new RecordCatalog([Note]);
  const key = (sequence: number, event: string) => idempotencyKey("test:v1", name, sequence, event);
  const noteBundle = bundle ? contentAddressedBundle(`test.${name}`, [Note]) : undefined;
  return {
    Note,
    writer: (store: ForgeStore, options: Partial<RecordWriterOptions> = {}) =>
      new RecordWriter<typeof Note>({
        store,
        mode: "required",
        key,
        label,
        bundle: noteBundle,
        retry: { attempts: 3, backoffMs: 0 },
        ...options,
      }),
    texts: async (store: ForgeStore, contextId: string): Promise<unknown[]> =>
      (await store.listTurns(contextId)).map((t) => catalog.decode(t)?.value.text),
  };
}
