/**
 * The wait.human handler (spec §4.6, reference point 8): offers the node's
 * outgoing edges as choices, asks the interviewer, and routes on the answer
 * (as `suggested_next_ids` and `preferred_label`). The question and answer
 * are recorded as interview lifecycle records and written to the stage's
 * `question.json` / `answer.json`; a durable interviewer without an answer
 * stops the run, waiting.
 *
 * @module
 */
import { afterDelay } from "../engine/timers.ts";
import { join } from "node:path";
import type { Handler, HandlerInput } from "../engine/handler.ts";
import type { Outcome } from "../engine/outcome.ts";
import type { Graph } from "../graph/types.ts";
import { outgoingEdges, parseAcceleratorKey, parseDuration } from "../engine/graph_api.ts";
import { InterviewLifecycleV3 } from "../records.ts";
import { type Answer, type Question, WaitingForAnswer } from "../interview/types.ts";
import { matchOption } from "../interview/interviewers.ts";

/** One choice of a human gate: an outgoing edge. */
export interface GateChoice {
  /** Accelerator key. */
  readonly key: string;
  /** The edge label (or target id). */
  readonly label: string;
  /** The target node. */
  readonly to: string;
}

/** The choices a human gate offers: its outgoing edges, with their accelerator keys. */
export function gateChoices(graph: Graph, nodeId: string): GateChoice[] {
  return outgoingEdges(graph, nodeId).map((edge) => {
    const label = edge.label || edge.to;
    return { key: parseAcceleratorKey(label), label, to: edge.to };
  });
}

/** The choice an answer names (key, label or target), or undefined. */
export function findChoice(choices: readonly GateChoice[], answer: string): GateChoice | undefined {
  const option = matchOption(choices, answer);
  return (option && choices.find((c) => c.key === option.key && c.label === option.label)) ??
    choices.find((c) => c.to === answer.trim());
}

/** Asks a human which edge to take. */
export class WaitForHumanHandler implements Handler {
  /** Executes the gate. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const { node } = input;
    const choices = gateChoices(input.graph, node.id);
    if (choices.length === 0) {
      return { status: "fail", failureReason: `human gate ${node.id} has no outgoing edges` };
    }
    const timeoutMs = node.attrs["human.timeout"]
      ? parseDuration(node.attrs["human.timeout"])
      : undefined;
    const question: Question = {
      text: node.label || "Select an option:",
      type: "multiple_choice",
      options: choices.map((c) => ({ key: c.key, label: c.label })),
      timeoutSeconds: timeoutMs ? timeoutMs / 1000 : undefined,
      stage: node.id,
      metadata: { runId: input.runId },
    };
    const key = { nodeId: node.id, attempt: input.attempt };
    const base = { runId: input.runId, nodeId: node.id, stageAttemptId: input.stageAttemptId };
    void input.recorder.write(InterviewLifecycleV3, { ...key, kind: "interview_started" }, {
      ...base,
      kind: "started",
      at: Date.now(),
      question: question.text,
      options: question.options.map((o) => o.label),
      optionKeys: question.options.map((o) => o.key),
      defaultSelected: node.attrs["human.default_choice"],
    });
    await Deno.writeTextFile(
      join(input.stageDir, "question.json"),
      JSON.stringify({ run_id: input.runId, node: node.id, ...question }, null, 2) + "\n",
    );
    input.emit({ kind: "interview_started", question: question.text, stage: node.id });
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await askWithTimeout(input, question, timeoutMs);
    } catch (error) {
      if (error instanceof WaitingForAnswer) await input.recorder.settle();
      throw error;
    }
    const durationMs = Math.round(performance.now() - started);
    if (answer.value === "timeout") {
      input.emit({
        kind: "interview_timeout",
        question: question.text,
        stage: node.id,
        durationMs,
      });
      const fallback = node.attrs["human.default_choice"];
      void input.recorder.write(InterviewLifecycleV3, { ...key, kind: "interview_timeout" }, {
        ...base,
        kind: "timeout",
        at: Date.now(),
        defaultSelected: fallback,
        durationMs,
      });
      if (!fallback) {
        return { status: "retry", failureReason: "human gate timeout, no default" };
      }
      answer = { value: fallback };
    }
    if (answer.value === "skipped") {
      return { status: "fail", failureReason: "human skipped interaction" };
    }
    const option = answer.selectedOption ?? matchOption(question.options, answer.value) ??
      matchOption(question.options, answer.text ?? "");
    const selected =
      choices.find((c) => option && c.key === option.key && c.label === option.label) ??
        choices.find((c) => c.to === answer.value);
    if (!selected) {
      // Never a silent first choice: an answer (or a human.default_choice)
      // that names no option is the pipeline's or the interviewer's mistake.
      return {
        status: "fail",
        failureReason: `human gate ${node.id}: the answer ${
          JSON.stringify(answer.value)
        } names none of its choices (${choices.map((c) => c.label).join(", ")})`,
      };
    }
    void input.recorder.write(InterviewLifecycleV3, { ...key, kind: "interview_completed" }, {
      ...base,
      kind: "completed",
      at: Date.now(),
      selected: selected.key,
      selectedLabel: selected.label,
      answerText: answer.text,
      durationMs,
    });
    await Deno.writeTextFile(
      join(input.stageDir, "answer.json"),
      JSON.stringify({ key: selected.key, label: selected.label, to: selected.to }, null, 2) + "\n",
    );
    input.emit({
      kind: "interview_completed",
      question: question.text,
      answer: selected.label,
      durationMs,
    });
    return {
      status: "success",
      preferredLabel: selected.label,
      suggestedNextIds: [selected.to],
      contextUpdates: { "human.gate.selected": selected.key, "human.gate.label": selected.label },
      notes: `human selected ${selected.label}`,
    };
  }
}

async function askWithTimeout(
  input: HandlerInput,
  question: Question,
  timeoutMs: number | undefined,
): Promise<Answer> {
  if (!timeoutMs) return await input.interviewer.ask(question, input.signal);
  const controller = new AbortController();
  const signal = AbortSignal.any([input.signal, controller.signal]);
  let cancel: (() => void) | undefined;
  const timeout = new Promise<Answer>((resolve) => {
    cancel = afterDelay(timeoutMs, () => {
      controller.abort();
      resolve({ value: "timeout" });
    });
  });
  try {
    return await Promise.race([input.interviewer.ask(question, signal), timeout]);
  } finally {
    cancel?.();
  }
}
