/**
 * The codergen handler (spec §4.5): builds the prompt (`$goal` expanded, the
 * fidelity preamble before it), writes `prompt.md`, calls the backend,
 * writes `response.md`, and returns the backend's outcome, the outcome an
 * agent wrote to the stage's `status.json`, or SUCCESS.
 *
 * @module
 */
import { join } from "node:path";
import type { Handler, HandlerInput } from "../engine/handler.ts";
import { type Outcome, outcomeFromStatusJson } from "../engine/outcome.ts";
import { buildPreamble } from "../engine/fidelity.ts";
import { fileProblem } from "../persist/file_problem.ts";
import type { CodergenResult } from "./backend.ts";

/** Runs LLM stages through the run's backend. */
export class CodergenHandler implements Handler {
  /** Executes the stage. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const { node, graph } = input;
    const base = (node.prompt || node.label).replaceAll("$goal", graph.attrs.goal);
    const preamble = buildPreamble(input.fidelity, graph, input.state, input.context);
    const prompt = preamble ? `${preamble}\n\n---\n\n${base}` : base;
    await Deno.writeTextFile(join(input.stageDir, "prompt.md"), prompt);
    const statusPath = join(input.stageDir, "status.json");
    await Deno.remove(statusPath).catch(() => {});
    const reply = await input.backend.run({
      node,
      prompt,
      context: input.context,
      stageDir: input.stageDir,
      fidelity: input.fidelity,
      threadKey: input.threadKey,
      signal: input.signal,
      runId: input.runId,
      stageAttemptId: input.stageAttemptId,
      attempt: input.attempt,
      priorExecutions: input.priorExecutions,
      stageTurnId: input.stageTurnId,
      recorder: input.recorder,
      toolHooks: {
        pre: node.attrs["tool_hooks.pre"] ?? graph.attrs.raw["tool_hooks.pre"],
        post: node.attrs["tool_hooks.post"] ?? graph.attrs.raw["tool_hooks.post"],
      },
    });
    const result: CodergenResult = typeof reply === "string"
      ? { text: reply }
      : "status" in reply
      ? { outcome: reply as Outcome }
      : reply as CodergenResult;
    const text = result.text ?? "";
    if (result.text !== undefined || !result.outcome) {
      await Deno.writeTextFile(join(input.stageDir, "response.md"), text);
    }
    if (result.outcome) return { ...result.outcome, usage: result.outcome.usage ?? result.usage };
    // The status-file contract: an agent may decide the outcome by writing status.json.
    const written = await readStatusFile(statusPath);
    if (written) return { ...written, usage: result.usage };
    return {
      status: "success",
      notes: `Stage completed: ${node.id}`,
      contextUpdates: {
        last_stage: node.id,
        last_response: text.length > 200 ? text.slice(0, 200) : text,
      },
      usage: result.usage,
    };
  }
}

/** The outcome in a `status.json`, or undefined when there is none. */
export async function readStatusFile(path: string): Promise<Outcome | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    // Something is there but cannot be read (a directory, no permission): a FAIL naming it.
    return { status: "fail", failureReason: `${path} cannot be read: ${fileProblem(error)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      status: "fail",
      failureReason: `${path} is not valid JSON: ${(error as Error).message}`,
    };
  }
  return outcomeFromStatusJson(json, path);
}
