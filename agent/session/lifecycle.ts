/**
 * The end of a session's record: the `session_ended` record written at
 * shutdown, and how an error's code reaches the event stream.
 *
 * @module
 */
import { type SessionFinalStateLabel, SessionLifecycle } from "../records.ts";
import type { SessionEventData } from "./events.ts";
import type { SessionWriter } from "./persistence.ts";

/**
 * Appends the session's `session_ended` record. A failed write is emitted as
 * an error event when the session ends without an error of its own (the
 * session is ending anyway; say so on the stream rather than hide it).
 */
export async function recordSessionEnd(
  writer: SessionWriter,
  sessionId: string,
  finalState: SessionFinalStateLabel,
  error: unknown,
  emit: (data: SessionEventData) => void,
): Promise<void> {
  try {
    await writer.append(SessionLifecycle, {
      sessionId,
      kind: "ended",
      at: Date.now(),
      finalState,
      error: error === undefined ? undefined : String((error as Error)?.message ?? error),
    }, "session_ended");
  } catch (writeError) {
    if (error === undefined) {
      emit({ kind: "error", message: (writeError as Error).message, code: codeOf(writeError) });
    }
  }
}

/** The string `code` of an error, if it has one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}
