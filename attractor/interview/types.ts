/**
 * The interviewer pattern (spec §6): questions, answers and the interface
 * every human-in-the-loop frontend implements.
 *
 * @module
 */

/** What kind of answer a question wants. */
export type QuestionType = "yes_no" | "multiple_choice" | "freeform" | "confirmation";

/** One choice of a multiple-choice question. */
export interface QuestionOption {
  /** Accelerator key, e.g. "A". */
  readonly key: string;
  /** Display text, e.g. "[A] Approve". */
  readonly label: string;
}

/** A question put to a human. */
export interface Question {
  /** What to show. */
  readonly text: string;
  /** The kind of answer wanted. */
  readonly type: QuestionType;
  /** The choices (multiple choice). */
  readonly options: readonly QuestionOption[];
  /** The answer taken on timeout. */
  readonly defaultAnswer?: Answer;
  /** Most seconds to wait, when bounded. */
  readonly timeoutSeconds?: number;
  /** The stage asking. */
  readonly stage: string;
  /** Anything else (run id, node id). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Special answer values. */
export type AnswerValue = "yes" | "no" | "skipped" | "timeout";

/** A human's answer. */
export interface Answer {
  /** The selected key, or a special value. */
  readonly value: string;
  /** The full option chosen (multiple choice). */
  readonly selectedOption?: QuestionOption;
  /** Free text (freeform). */
  readonly text?: string;
}

/** A human-in-the-loop frontend. */
export interface Interviewer {
  /** Asks one question. */
  ask(question: Question, signal?: AbortSignal): Promise<Answer>;
  /** Asks several questions in order. */
  askMultiple?(questions: readonly Question[], signal?: AbortSignal): Promise<Answer[]>;
  /** Shows a message. */
  inform?(message: string, stage: string): void;
}

/**
 * Thrown by a durable interviewer when nobody has answered yet: the run
 * stops, waiting, and resumes when the answer is given.
 */
export class WaitingForAnswer extends Error {
  /** Stable, machine-readable code. */
  readonly code = "WaitingForAnswer" as const;
  /** The question that waits. */
  readonly question: Question;
  /** Creates the signal for `question`. */
  constructor(question: Question) {
    super(`waiting for an answer to ${JSON.stringify(question.text)} at ${question.stage}`);
    this.name = "WaitingForAnswer";
    this.question = question;
  }
}
