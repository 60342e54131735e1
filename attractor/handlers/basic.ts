/**
 * The no-op handlers: start (§4.3), exit (§4.4) and conditional (§4.7),
 * whose routing the engine does.
 *
 * @module
 */
import type { Handler, HandlerInput } from "../engine/handler.ts";
import type { Outcome } from "../engine/outcome.ts";

/** The pipeline's entry: SUCCESS at once. */
export class StartHandler implements Handler {
  /** Returns SUCCESS. */
  execute(): Promise<Outcome> {
    return Promise.resolve({ status: "success" });
  }
}

/** The pipeline's exit: SUCCESS at once (the engine checks goal gates). */
export class ExitHandler implements Handler {
  /** Returns SUCCESS. */
  execute(): Promise<Outcome> {
    return Promise.resolve({ status: "success" });
  }
}

/** A routing point: SUCCESS; the engine evaluates the edge conditions. */
export class ConditionalHandler implements Handler {
  /** Returns SUCCESS with a note. */
  execute(input: HandlerInput): Promise<Outcome> {
    return Promise.resolve({
      status: "success",
      notes: `Conditional node evaluated: ${input.node.id}`,
    });
  }
}
