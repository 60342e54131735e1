/**
 * What a handler returns (spec §5.2) and how it is written to and read from
 * a stage's `status.json` (spec appendix C).
 *
 * @module
 */

/** A stage's status; lowercase, as in `status.json` and conditions. */
export type StageStatus =
  | "success"
  | "partial_success"
  | "retry"
  | "fail"
  | "skipped";

/** Every stage status, for validation. */
export const STAGE_STATUSES: readonly StageStatus[] = [
  "success",
  "partial_success",
  "retry",
  "fail",
  "skipped",
];

/** A value a handler may put into the run context (JSON). */
export type ContextValue =
  | string
  | number
  | boolean
  | null
  | readonly ContextValue[]
  | { readonly [key: string]: ContextValue };

/** The result of executing a node handler. */
export interface Outcome {
  /** How the stage ended. */
  readonly status: StageStatus;
  /** Which edge label to follow next. */
  readonly preferredLabel?: string;
  /** Node ids to go to next, in preference order. */
  readonly suggestedNextIds?: readonly string[];
  /** Keys merged into the run context after the stage. */
  readonly contextUpdates?: Readonly<Record<string, ContextValue>>;
  /** A human-readable summary. */
  readonly notes?: string;
  /** Why the stage failed or asked to be retried. */
  readonly failureReason?: string;
  /** Tokens (and cost) the stage used; recorded, not written to `status.json`. */
  readonly usage?: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly totalTokens: number;
    readonly costUsd?: number;
  };
  /**
   * Where the engine goes next regardless of edges (beyond the spec): the
   * parallel handler sends the run to the fan-in node its branches reached.
   */
  readonly jumpTo?: string;
}

/** True for SUCCESS and PARTIAL_SUCCESS. */
export function isSuccess(status: StageStatus): boolean {
  return status === "success" || status === "partial_success";
}

/** Parses a status string leniently: case-insensitive, `partial-success` and `failure` accepted. */
export function parseStatus(value: unknown): StageStatus | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase().replace(/-/g, "_");
  if (v === "failure" || v === "failed") return "fail";
  if (v === "ok" || v === "succeeded") return "success";
  return (STAGE_STATUSES as readonly string[]).includes(v) ? v as StageStatus : undefined;
}

/** The JSON object of `status.json`. */
export function outcomeToStatusJson(outcome: Outcome): Record<string, unknown> {
  const json: Record<string, unknown> = { outcome: outcome.status };
  if (outcome.preferredLabel) json.preferred_label = outcome.preferredLabel;
  if (outcome.suggestedNextIds?.length) json.suggested_next_ids = outcome.suggestedNextIds;
  if (outcome.contextUpdates && Object.keys(outcome.contextUpdates).length) {
    json.context_updates = outcome.contextUpdates;
  }
  if (outcome.notes) json.notes = outcome.notes;
  if (outcome.failureReason) json.failure_reason = outcome.failureReason;
  return json;
}

/**
 * How deeply a context value from a status file may nest. The context is
 * copied, checkpointed and encoded by code that recurses; a value nested
 * thousands deep would overflow the stack and end the whole run instead of
 * failing its stage.
 */
export const MAX_CONTEXT_DEPTH = 64;

/** The top-level key under which `value` nests deeper than `limit`, or undefined (iterative: no recursion). */
function tooDeep(value: Record<string, unknown>, limit: number): string | undefined {
  for (const [key, top] of Object.entries(value)) {
    const stack: [unknown, number][] = [[top, 1]];
    while (stack.length) {
      const [v, depth] = stack.pop()!;
      if (v === null || typeof v !== "object") continue;
      if (depth > limit) return key;
      for (const child of Object.values(v)) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** A `status.json` written by a tool or an agent could not be understood. */
export class StatusFileError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidStatusFile" as const;
  /** Creates the error; the message names the file and what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "StatusFileError";
  }
}

/**
 * Reads the status-file contract: `outcome` (or `status`) is required;
 * `preferred_label` and its older name `preferred_next_label` are both accepted.
 */
export function outcomeFromStatusJson(json: unknown, source = "status.json"): Outcome {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new StatusFileError(`${source} must hold a JSON object`);
  }
  const o = json as Record<string, unknown>;
  const status = parseStatus(o.outcome ?? o.status);
  if (!status) {
    throw new StatusFileError(
      `${source}: "outcome" must be one of ${STAGE_STATUSES.join(", ")}, got ${
        JSON.stringify(o.outcome ?? o.status)
      }`,
    );
  }
  const label = o.preferred_label ?? o.preferred_next_label;
  const ids = o.suggested_next_ids;
  const updates = o.context_updates;
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((i) => typeof i !== "string"))) {
    throw new StatusFileError(`${source}: "suggested_next_ids" must be a list of strings`);
  }
  if (
    updates !== undefined &&
    (updates === null || typeof updates !== "object" || Array.isArray(updates))
  ) {
    throw new StatusFileError(`${source}: "context_updates" must be an object`);
  }
  if (updates !== undefined) {
    const deep = tooDeep(updates as Record<string, unknown>, MAX_CONTEXT_DEPTH);
    if (deep !== undefined) {
      throw new StatusFileError(
        `${source}: "context_updates.${deep}" is nested deeper than ${MAX_CONTEXT_DEPTH} levels`,
      );
    }
  }
  return {
    status,
    preferredLabel: typeof label === "string" && label ? label : undefined,
    suggestedNextIds: ids as string[] | undefined,
    contextUpdates: updates as Record<string, ContextValue> | undefined,
    notes: typeof o.notes === "string" ? o.notes : undefined,
    failureReason: typeof o.failure_reason === "string" ? o.failure_reason : undefined,
  };
}
