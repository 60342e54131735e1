/**
 * Several handles on one KV file (in one process or several) contend for
 * SQLite's write lock, and Deno KV reports a lost race as "database is
 * locked" instead of waiting. Such an operation did nothing, so it is safe to
 * try again after a short pause.
 *
 * @module
 */
import { BackendError } from "../core/errors.ts";

/** How long an operation keeps retrying a locked database before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

/** True when `error` is SQLite's transient "locked" or "busy". */
export function isBusy(error: unknown): boolean {
  return error instanceof Error && /database is (locked|busy)|SQLITE_BUSY/i.test(error.message);
}

/** Runs `fn`, retrying with growing pauses while the database is locked. */
export async function retryBusy<T>(fn: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  let pause = 1;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (Date.now() > deadline) {
        throw new BackendError(`${what}: the KV file stayed locked for ${BUSY_TIMEOUT_MS} ms`, {
          cause: error,
        });
      }
      // Jitter, so that contending handles do not retry in lockstep.
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
      pause = Math.min(pause * 2, 50);
    }
  }
}

/** `kv` with its point reads retrying while the database is locked. */
export function withBusyRetry(kv: Deno.Kv): Deno.Kv {
  // Bound once: the append path reads `kv.atomic` on every commit.
  const methods = new Map<PropertyKey, unknown>([
    [
      "get",
      (key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) =>
        retryBusy(() => kv.get(key, options), "kv read"),
    ],
    [
      "getMany",
      (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) =>
        retryBusy(() => kv.getMany(keys, options), "kv read"),
    ],
  ]);
  return new Proxy(kv, {
    get(target, prop) {
      let method = methods.get(prop);
      if (method === undefined) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        method = value.bind(target);
        methods.set(prop, method);
      }
      return method;
    },
  });
}
