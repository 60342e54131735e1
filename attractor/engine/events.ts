/**
 * The engine's events (spec §9.6): fifteen kinds, consumed as callbacks or as
 * an async iterable, plus `pipeline_waiting` for a run stopped at a durable
 * human gate (beyond the spec).
 *
 * @module
 */

/** Fields every event carries. */
export interface EventBase {
  /** The run. */
  readonly runId: string;
  /** When it happened (Unix ms). */
  readonly at: number;
}

/** One event's own fields, by kind. */
export type PipelineEventData =
  | { readonly kind: "pipeline_started"; readonly name: string; readonly id: string }
  | {
    readonly kind: "pipeline_completed";
    readonly durationMs: number;
    readonly artifactCount: number;
    readonly status: "success" | "partial_success";
  }
  | { readonly kind: "pipeline_failed"; readonly error: string; readonly durationMs: number }
  | {
    readonly kind: "pipeline_waiting";
    readonly nodeId: string;
    readonly question: string;
    readonly options: readonly string[];
  }
  | { readonly kind: "stage_started"; readonly name: string; readonly index: number }
  | {
    readonly kind: "stage_completed";
    readonly name: string;
    readonly index: number;
    readonly durationMs: number;
    readonly status: string;
  }
  | {
    readonly kind: "stage_failed";
    readonly name: string;
    readonly index: number;
    readonly error: string;
    readonly willRetry: boolean;
  }
  | {
    readonly kind: "stage_retrying";
    readonly name: string;
    readonly index: number;
    readonly attempt: number;
    readonly delayMs: number;
  }
  | { readonly kind: "parallel_started"; readonly nodeId: string; readonly branchCount: number }
  | { readonly kind: "parallel_branch_started"; readonly branch: string; readonly index: number }
  | {
    readonly kind: "parallel_branch_completed";
    readonly branch: string;
    readonly index: number;
    readonly durationMs: number;
    readonly success: boolean;
  }
  | {
    readonly kind: "parallel_completed";
    readonly durationMs: number;
    readonly successCount: number;
    readonly failureCount: number;
  }
  | { readonly kind: "interview_started"; readonly question: string; readonly stage: string }
  | {
    readonly kind: "interview_completed";
    readonly question: string;
    readonly answer: string;
    readonly durationMs: number;
  }
  | {
    readonly kind: "interview_timeout";
    readonly question: string;
    readonly stage: string;
    readonly durationMs: number;
  }
  | { readonly kind: "checkpoint_saved"; readonly nodeId: string };

/** An engine event. */
export type PipelineEvent = EventBase & PipelineEventData;

/** The kinds of events. */
export type PipelineEventKind = PipelineEventData["kind"];

/** Receives events as they happen. */
export type PipelineEventListener = (event: PipelineEvent) => void;

/**
 * Fans events out to callbacks and to async-iterable subscribers. Each
 * subscriber gets every event emitted after it subscribed, buffered, until
 * the hub closes.
 */
export class EventHub {
  readonly #listeners = new Set<PipelineEventListener>();
  readonly #queues = new Set<{ items: PipelineEvent[]; wake?: () => void }>();
  #closed = false;

  /** Registers a callback; returns a function that removes it. */
  on(listener: PipelineEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivers an event to every callback and subscriber. A throwing callback is ignored. */
  emit(event: PipelineEvent): void {
    if (this.#closed) return;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A consumer's bug must not stop the pipeline.
      }
    }
    for (const queue of this.#queues) {
      queue.items.push(event);
      queue.wake?.();
    }
  }

  /** Ends every subscription after its buffered events. */
  close(): void {
    this.#closed = true;
    for (const queue of this.#queues) queue.wake?.();
  }

  /** Every event from now until the hub closes. */
  async *events(): AsyncGenerator<PipelineEvent, void, undefined> {
    const queue: { items: PipelineEvent[]; wake?: () => void } = { items: [] };
    this.#queues.add(queue);
    try {
      while (true) {
        if (queue.items.length) {
          yield queue.items.shift()!;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => (queue.wake = resolve));
        queue.wake = undefined;
      }
    } finally {
      this.#queues.delete(queue);
    }
  }
}
