/**
 * The messages between a {@link ThreadStore} and its worker: plain data that
 * structured clone carries as is. Calls made in one tick travel as one
 * `calls` message; answers ready in one tick travel as one `answers` message.
 *
 * @module
 */
import type { CommitStats } from "../kv/budget.ts";
import type { WireError } from "./wire_errors.ts";

/** The ForgeStore methods the worker forwards, and nothing else. */
export const STORE_METHODS = [
  "createContext",
  "forkContext",
  "appendTurn",
  "getHead",
  "listTurns",
  "getTurn",
  "listContexts",
  "putBlob",
  "getBlob",
  "hasBlob",
  "attachFs",
  "getFsRoot",
  "publishRegistryBundle",
  "getRegistryBundle",
] as const;

/** One forwarded method's name. */
export type StoreMethod = typeof STORE_METHODS[number];

/** One call: its id, the method, the arguments. */
export type Call = readonly [id: number, method: StoreMethod, args: readonly unknown[]];

/**
 * An append's answer without the payload the caller already holds:
 * `[contextId, turnId, parentTurnId, depth, contentHash, deduplicated]`.
 */
export type CompactAppend = readonly [string, string, string, number, string, boolean];

/** One answer: `[id, 0, value]` for a result, `[id, 1, error]` for a failure. */
export type Answer =
  | readonly [id: number, failed: 0, value: unknown]
  | readonly [
    id: number,
    failed: 1,
    error: WireError,
  ];

/** Caller → worker. */
export type ToWorker =
  | { readonly t: "open"; readonly url: string; readonly countCommits: boolean }
  | { readonly t: "calls"; readonly calls: readonly Call[] }
  | { readonly t: "close" };

/** Worker → caller. */
export type FromWorker =
  | { readonly t: "ready" }
  | { readonly t: "opened"; readonly backend: string }
  | { readonly t: "open_failed"; readonly error: WireError }
  | {
    readonly t: "answers";
    readonly answers: readonly Answer[];
    readonly commits?: readonly CommitStats[];
  }
  | { readonly t: "closed"; readonly error?: WireError };
