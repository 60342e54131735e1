/**
 * The durable interviewer: a question nobody has answered stops the run
 * (the engine records it and checkpoints with the run waiting); the answer
 * given later (`forge answer`, or {@link DurableInterviewer} with answers)
 * resumes it, from any process.
 *
 * @module
 */
import { matchOption } from "./interviewers.ts";
import { type Answer, type Interviewer, type Question, WaitingForAnswer } from "./types.ts";

/** Answers given ahead of time, by stage (node id). */
export type PendingAnswers = ReadonlyMap<string, string>;

/** Returns a stored answer for the stage, or stops the run waiting for one. */
export class DurableInterviewer implements Interviewer {
  readonly #answers: Map<string, string>;

  /** Creates it with the answers already given (node id → option key or label). */
  constructor(answers: PendingAnswers = new Map()) {
    this.#answers = new Map(answers);
  }

  /** The stored answer (consumed once), or throws {@link WaitingForAnswer}. */
  ask(question: Question): Promise<Answer> {
    const given = this.#answers.get(question.stage);
    if (given === undefined) return Promise.reject(new WaitingForAnswer(question));
    this.#answers.delete(question.stage);
    const option = matchOption(question.options, given);
    if (question.type === "multiple_choice" && !option) {
      return Promise.reject(
        new InvalidAnswerError(
          `answer ${JSON.stringify(given)} matches none of the options of ${question.stage}: ${
            question.options.map((o) => `${o.key} (${o.label})`).join(", ")
          }`,
        ),
      );
    }
    return Promise.resolve(
      option ? { value: option.key, selectedOption: option } : {
        value: given,
        text: given,
      },
    );
  }
}

/** An answer names no option of its question. */
export class InvalidAnswerError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "InvalidAnswer" as const;
  /** Creates the error; the message lists the options. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidAnswerError";
  }
}
