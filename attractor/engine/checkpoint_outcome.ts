/**
 * The checkpoint form of the engine's outcomes, and back. Each outcome's
 * checkpoint form is built once and kept with the outcome object: an
 * unchanged outcome keeps its object from checkpoint to checkpoint, so the
 * store's delta sees it unchanged by reference, not by comparing it field by
 * field. A resumed run adopts the checkpoint's own objects the same way, so
 * its first delta compares references too.
 *
 * @module
 */
import type { CheckpointOutcome } from "./checkpoint.ts";
import type { Outcome } from "./outcome.ts";

const forms = new WeakMap<Outcome, CheckpointOutcome>();

/** The checkpoint form of `o` (the same object for the same outcome). */
export function checkpointOutcome(o: Outcome): CheckpointOutcome {
  let c = forms.get(o);
  if (!c) {
    c = Object.freeze({
      status: o.status,
      notes: o.notes || undefined,
      failure_reason: o.failureReason || undefined,
      preferred_label: o.preferredLabel || undefined,
      suggested_next_ids: o.suggestedNextIds?.length ? o.suggestedNextIds : undefined,
    });
    forms.set(o, c);
  }
  return c;
}

/** The fields {@link checkpointOutcome} writes, in its order. */
const FIELDS = ["status", "notes", "failure_reason", "preferred_label", "suggested_next_ids"];

/**
 * Whether `c` serializes exactly as {@link checkpointOutcome} would write
 * its outcome: only its fields, in its order, none empty. A checkpoint
 * edited by hand may hold anything else; such an outcome gets a form of its
 * own.
 */
function isCanonical(c: CheckpointOutcome): boolean {
  const o = c as unknown as Record<string, unknown>;
  let next = 0;
  for (const key of Object.keys(o)) {
    while (next < FIELDS.length && FIELDS[next] !== key) next++;
    if (next === FIELDS.length) return false;
    const value = o[key];
    if (key === "suggested_next_ids") {
      if (!Array.isArray(value) || value.length === 0) return false;
    } else if (typeof value !== "string" || (key !== "status" && value === "")) {
      return false;
    }
    next++;
  }
  return typeof o.status === "string";
}

/**
 * The engine's outcome of a checkpoint's outcome `c`. When `c` is what
 * {@link checkpointOutcome} would write, it becomes the outcome's checkpoint
 * form, so the resumed run's checkpoints share it with the one resumed from
 * (which must then not be changed while the run runs).
 */
export function outcomeFromCheckpoint(c: CheckpointOutcome): Outcome {
  const outcome: Outcome = {
    status: c.status,
    notes: c.notes,
    failureReason: c.failure_reason,
    preferredLabel: c.preferred_label,
    suggestedNextIds: c.suggested_next_ids,
  };
  if (isCanonical(c)) forms.set(outcome, c);
  return outcome;
}
