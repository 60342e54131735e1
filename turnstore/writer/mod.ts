/**
 * The record writer every runtime persists through: open a writer for a
 * context, append typed records with their idempotency keys, await flush or
 * settle, close; fork it for a child context.
 *
 * - Persistence modes `off` / `best_effort` / `required`.
 * - Appends pipelined in call order (the store contract's call-order rule),
 *   each stored turn checked to be the child of the one before.
 * - Bounded retries with the same bytes and the same idempotency key, so a
 *   write whose acknowledgement was lost is found again, never duplicated.
 * - The runtime's registry bundle published once, before the first record.
 *
 * ```ts
 * import { MemoryStore } from "@forge/turnstore";
 * import { defineRecord, f, idempotencyKey } from "@forge/turnstore/records";
 * import { RecordWriter } from "@forge/turnstore/writer";
 *
 * const Step = defineRecord({ typeId: "example.step", version: 1, fields: { name: f.string(1) } });
 * await using store = new MemoryStore();
 * await using writer = new RecordWriter<typeof Step>({
 *   store,
 *   mode: "required",
 *   label: "job 7",
 *   key: (sequence, event) => idempotencyKey("example:v1", "job-7", sequence, event),
 * });
 * await writer.open();
 * writer.enqueue(Step, { name: "fetch" }, "step");
 * await writer.settle();
 * await using child = await writer.fork({ label: "job 7, branch a" });
 * await child.append(Step, { name: "branch" }, "step");
 * ```
 *
 * This module loads no backend: it works with any `ForgeStore`.
 *
 * @module
 */
export {
  DEFAULT_RETRY,
  PERSISTENCE_MODES,
  PersistenceError,
  type PersistenceMode,
  type RetryPolicy,
} from "./policy.ts";
export { RecordWriter } from "./writer.ts";
export {
  DEFAULT_PIPELINE_WINDOW,
  DEFAULT_WRITE_BEHIND_HOLD,
  type ForkWriterOptions,
  NO_HOLD,
  type OpenWriterOptions,
  type RecordWriterOptions,
  type WritableRecord,
  type WriteBehindHold,
  type WriteKey,
} from "./options.ts";
