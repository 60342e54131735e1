/**
 * The checkpoint (spec §5.3, reference "run directory"): the whole state a
 * run resumes from, as written to `checkpoint.json` and, whole, to the store.
 *
 * The reference fixes the fields scripts read (`timestamp`, `current_node`,
 * `completed_nodes`, `node_retries`, `node_outcomes`, `context`, `logs`);
 * the rest is what exact resume needs: where to go next, visit counts, the
 * restart lineage and the stage counter.
 *
 * The per-node maps of a checkpoint the engine builds (`node_retries`,
 * `node_outcomes`, `node_visits`, `node_executions`) are objects without a
 * prototype: at thousands of nodes they are filled several times faster, and
 * a node named "constructor" is an ordinary key. They read, spread and
 * serialize as any object; compare them by their entries (`{ ...map }`).
 *
 * @module
 */
import type { ContextValue, StageStatus } from "./outcome.ts";

/** One node's latest outcome, as the checkpoint keeps it. */
export interface CheckpointOutcome {
  /** Lowercase status. */
  readonly status: StageStatus;
  /** Notes of the outcome. */
  readonly notes?: string;
  /** Why it failed. */
  readonly failure_reason?: string;
  /** The label the handler preferred (kept so a resumed run routes the same way). */
  readonly preferred_label?: string;
  /** Node ids the handler suggested. */
  readonly suggested_next_ids?: readonly string[];
}

/** The checkpoint as JSON (snake_case, as in `checkpoint.json`). */
export interface Checkpoint {
  /** ISO-8601 time it was taken. */
  readonly timestamp: string;
  /** The last node completed (the exit node once the run finished). */
  readonly current_node: string;
  /** Every node completed, in order (repeats included). */
  readonly completed_nodes: readonly string[];
  /** Retries taken per node. */
  readonly node_retries: Readonly<Record<string, number>>;
  /** The latest outcome per node. */
  readonly node_outcomes: Readonly<Record<string, CheckpointOutcome>>;
  /** The run context, flat dotted keys. */
  readonly context: Readonly<Record<string, ContextValue>>;
  /** The run log. */
  readonly logs: readonly string[];
  /** The node a resumed run starts at; absent when the run is finished. */
  readonly next_node?: string;
  /** The incoming edge of `next_node` (for fidelity and thread resolution), as "from->to". */
  readonly next_edge?: string;
  /** Executions per node in this attempt (for `max_visits`). */
  readonly node_visits: Readonly<Record<string, number>>;
  /** Executions per node over the whole run, restarts and retries included. */
  readonly node_executions: Readonly<Record<string, number>>;
  /** The run id. */
  readonly run_id: string;
  /** Which attempt of the restart lineage (1 for the first). */
  readonly lineage_attempt: number;
  /** Loop restarts taken so far. */
  readonly restarts: number;
  /** Stages run so far (the index of the next stage). */
  readonly stage_index: number;
  /** The fidelity the last completed codergen stage used (resume downgrades `full`). */
  readonly last_fidelity?: string;
  /** Set when the run is finished: its final status. */
  readonly final_status?: StageStatus;
  /** Set when the run finished as failed: why. */
  readonly failure_reason?: string;
  /** Set when the run stopped at a durable human gate. */
  readonly waiting_on?: string;
}

/**
 * The id of a run's next checkpoint record: `<run>:<lineage attempt>:<stage
 * index>`, and `<run>:<attempt>:<index>.<n>` for the n-th further checkpoint
 * at the same stage index (the final checkpoint after the exit, a waiting
 * gate's, a wait again after a resume that was not answered): these are
 * written after no new stage, and would otherwise repeat the previous
 * checkpoint's id. `previous` is the id of the attempt's previous checkpoint
 * record (read from the store on a resume), if known.
 */
export function nextCheckpointId(
  runId: string,
  lineageAttempt: number,
  stageIndex: number,
  previous?: string,
): string {
  const base = `${runId}:${lineageAttempt}:${stageIndex}`;
  if (previous === undefined || !previous.startsWith(base)) return base;
  const rest = previous.slice(base.length);
  if (rest === "") return `${base}.1`;
  const repeat = /^\.(\d+)$/.exec(rest);
  return repeat ? `${base}.${Number(repeat[1]) + 1}` : base;
}

/** A checkpoint file or record could not be read. */
export class CheckpointError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidCheckpoint" as const;
  /** Creates the error; the message names the source and the bad field. */
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** Checks a parsed checkpoint's shape; returns it typed or throws {@link CheckpointError}. */
export function parseCheckpoint(json: unknown, source = "checkpoint"): Checkpoint {
  const fail = (what: string): never => {
    throw new CheckpointError(`${source}: ${what}`);
  };
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail("must be a JSON object");
  }
  const c = json as Record<string, unknown>;
  const isRecord = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (typeof c.current_node !== "string") fail(`"current_node" must be a string`);
  if (!Array.isArray(c.completed_nodes) || c.completed_nodes.some((n) => typeof n !== "string")) {
    fail(`"completed_nodes" must be a list of node ids`);
  }
  if (!isRecord(c.context)) fail(`"context" must be an object`);
  if (c.node_retries !== undefined && !isRecord(c.node_retries)) {
    fail(`"node_retries" must be an object`);
  }
  if (c.node_outcomes !== undefined && !isRecord(c.node_outcomes)) {
    fail(`"node_outcomes" must be an object`);
  }
  if (c.next_node !== undefined && typeof c.next_node !== "string") {
    fail(`"next_node" must be a string`);
  }
  return {
    timestamp: typeof c.timestamp === "string" ? c.timestamp : new Date(0).toISOString(),
    current_node: c.current_node as string,
    completed_nodes: c.completed_nodes as string[],
    node_retries: (c.node_retries ?? {}) as Record<string, number>,
    node_outcomes: (c.node_outcomes ?? {}) as Record<string, CheckpointOutcome>,
    context: c.context as Record<string, ContextValue>,
    logs: Array.isArray(c.logs) ? c.logs.map(String) : [],
    next_node: c.next_node as string | undefined,
    next_edge: typeof c.next_edge === "string" ? c.next_edge : undefined,
    node_visits: (isRecord(c.node_visits) ? c.node_visits : {}) as Record<string, number>,
    node_executions: (isRecord(c.node_executions) ? c.node_executions : {}) as Record<
      string,
      number
    >,
    run_id: typeof c.run_id === "string" ? c.run_id : "",
    lineage_attempt: typeof c.lineage_attempt === "number" ? c.lineage_attempt : 1,
    restarts: typeof c.restarts === "number" ? c.restarts : 0,
    stage_index: typeof c.stage_index === "number"
      ? c.stage_index
      : (c.completed_nodes as string[]).length,
    last_fidelity: typeof c.last_fidelity === "string" ? c.last_fidelity : undefined,
    final_status: c.final_status as StageStatus | undefined,
    failure_reason: typeof c.failure_reason === "string" ? c.failure_reason : undefined,
    waiting_on: typeof c.waiting_on === "string" ? c.waiting_on : undefined,
  };
}

/** The checkpoint as the bytes written to `checkpoint.json` and the store. */
export function serializeCheckpoint(checkpoint: Checkpoint): string {
  return JSON.stringify(checkpoint, null, 2);
}
