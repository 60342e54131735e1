/**
 * Stores for tests of persistence modes: one whose every method throws, and
 * one that fails chosen appends (before or after writing), wrapping a real
 * memory store.
 *
 * @module
 */
import {
  type AppendedTurn,
  type AppendTurnInput,
  BackendError,
  type ForgeStore,
  MemoryStore,
} from "@forge/turnstore";

/** A store whose every method (and property other than `backend`) throws: proves it is never called. */
export function throwingStore(): ForgeStore & { readonly touched: string[] } {
  const touched: string[] = [];
  return new Proxy({} as ForgeStore & { touched: string[] }, {
    get(_target, prop) {
      if (prop === "touched") return touched;
      if (prop === "then") return undefined; // not a thenable
      touched.push(String(prop));
      throw new Error(`the store was used: ${String(prop)}`);
    },
  });
}

/** How a {@link FlakyStore} fails an append. */
export type FailureKind = "before_write" | "after_write";

/** A memory store whose appends fail on demand with a Backend error. */
export class FlakyStore extends MemoryStore {
  /** Append calls seen, including failed ones. */
  appendCalls = 0;
  /** Idempotency keys of every append call, in order. */
  readonly keys: (string | undefined)[] = [];
  /** Fail append calls whose 1-based number is in this set. */
  readonly failCalls = new Set<number>();
  /** When true, every append fails. */
  failAll = false;
  /** Fail every append whose idempotency key contains one of these strings. */
  readonly failKeysContaining: string[] = [];
  /** Whether a failure happens before the write or after it (a lost acknowledgement). */
  failureKind: FailureKind = "before_write";

  /** Appends, or fails as configured. */
  override async appendTurn(input: AppendTurnInput): Promise<AppendedTurn> {
    const n = ++this.appendCalls;
    this.keys.push(input.idempotencyKey);
    const fail = this.failAll || this.failCalls.has(n) ||
      this.failKeysContaining.some((part) => input.idempotencyKey?.includes(part));
    if (fail && this.failureKind === "before_write") {
      throw new BackendError(`injected failure of append #${n}`);
    }
    const turn = await super.appendTurn(input);
    if (fail) throw new BackendError(`injected lost acknowledgement of append #${n}`);
    return turn;
  }
}
