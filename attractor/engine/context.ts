/**
 * The run context (spec §5.1): a flat map of dotted keys to JSON values,
 * shared by the stages of one run, plus an append-only run log. Branches of
 * a parallel node work on a deep copy.
 *
 * @module
 */
import type { ContextValue } from "./outcome.ts";

/** The key-value state of one run. */
export class RunContext {
  readonly #values: Map<string, ContextValue>;
  readonly #logs: string[];

  /** Creates a context from a snapshot (keys in insertion order) and log. */
  constructor(values: Readonly<Record<string, ContextValue>> = {}, logs: readonly string[] = []) {
    this.#values = new Map(Object.entries(structuredClone(values)));
    this.#logs = [...logs];
  }

  /** The value at `key`, or undefined. */
  get(key: string): ContextValue | undefined {
    return this.#values.get(key);
  }

  /** The value at `key` as a string ("" when missing; JSON for objects). */
  getString(key: string, fallback = ""): string {
    return stringifyValue(this.#values.get(key), fallback);
  }

  /** True when `key` is set. */
  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** Sets `key`. */
  set(key: string, value: ContextValue): void {
    this.#values.set(key, value);
  }

  /** Removes `key`. */
  delete(key: string): void {
    this.#values.delete(key);
  }

  /** Merges updates into the context. */
  applyUpdates(updates: Readonly<Record<string, ContextValue>> | undefined): void {
    if (!updates) return;
    for (const [key, value] of Object.entries(updates)) this.#values.set(key, value);
  }

  /** Appends a line to the run log. */
  appendLog(entry: string): void {
    this.#logs.push(entry);
  }

  /** The run log. */
  get logs(): readonly string[] {
    return this.#logs;
  }

  /** A serializable copy of all values. */
  snapshot(): Record<string, ContextValue> {
    return structuredClone(Object.fromEntries(this.#values));
  }

  /** A deep copy, for a parallel branch. */
  clone(): RunContext {
    return new RunContext(Object.fromEntries(this.#values), this.#logs);
  }

  /** Keys in insertion order. */
  keys(): string[] {
    return [...this.#values.keys()];
  }
}

/** A context value as the string conditions compare against. */
export function stringifyValue(value: ContextValue | undefined, fallback = ""): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
