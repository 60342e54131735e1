/**
 * The codergen backend interface (spec §4.5) and the simulation backend
 * (`--simulate`): what runs an LLM stage.
 *
 * @module
 */
import { afterDelay } from "../engine/timers.ts";
import type { Node } from "../graph/types.ts";
import type { RunContext } from "../engine/context.ts";
import { type Outcome, parseStatus } from "../engine/outcome.ts";
import type { RunRecorder } from "../persist/recorder.ts";

/** Tokens (and cost, when known) a stage used. */
export interface StageUsage {
  /** Input tokens. */
  readonly inputTokens: number;
  /** Output tokens. */
  readonly outputTokens: number;
  /** Total tokens. */
  readonly totalTokens: number;
  /** Cost in US dollars, when the backend knows it. */
  readonly costUsd?: number;
}

/** One LLM stage, as the backend sees it. */
export interface CodergenRequest {
  /** The node. */
  readonly node: Node;
  /** The prompt, `$goal` expanded, preamble included. */
  readonly prompt: string;
  /** The run context (read it; return updates in an Outcome). */
  readonly context: RunContext;
  /** The stage directory (an agent may write `status.json` there). */
  readonly stageDir: string;
  /** The resolved fidelity mode. */
  readonly fidelity: string;
  /** The thread key under `full` fidelity (stages sharing it share a session). */
  readonly threadKey?: string;
  /** Aborted on cancel or timeout. */
  readonly signal: AbortSignal;
  /** The run. */
  readonly runId: string;
  /** The stage attempt. */
  readonly stageAttemptId: string;
  /** Attempt number, from 1. */
  readonly attempt: number;
  /** How many times this node ran before in the run (retries included). */
  readonly priorExecutions: number;
  /** The pipeline turn the agent context forks from (the stage's `started` record). */
  readonly stageTurnId?: () => Promise<string | undefined>;
  /** The stage's recorder (for the stage ↔ agent link). */
  readonly recorder: RunRecorder;
  /** `tool_hooks.pre` / `tool_hooks.post` of the node, else of the graph. */
  readonly toolHooks?: { readonly pre?: string; readonly post?: string };
}

/** What a backend returns besides text or an outcome. */
export interface CodergenResult {
  /** The response text (written to `response.md`). */
  readonly text?: string;
  /** An outcome that decides the stage (else SUCCESS, or the agent's `status.json`). */
  readonly outcome?: Outcome;
  /** Token usage. */
  readonly usage?: StageUsage;
}

/** Runs LLM stages. */
export interface CodergenBackend {
  /** Runs one stage: response text, an outcome, or both with usage. */
  run(request: CodergenRequest): Promise<string | Outcome | CodergenResult>;
  /** Releases sessions and connections. */
  close?(): Promise<void>;
}

/**
 * No LLM: answers `[Simulated] Response for stage: <id>`. A node may script
 * its outcomes for demos and tests: `simulate.outcomes="fail,success"` gives
 * the first execution FAIL and every later one SUCCESS (the last entry
 * repeats); `simulate.delay_ms` waits first (abortable);
 * `simulate.preferred_label` and `simulate.context.<key>` shape the outcome.
 */
export class SimulationBackend implements CodergenBackend {
  /** Answers with the simulated text or the scripted outcome. */
  async run(request: CodergenRequest): Promise<string | Outcome | CodergenResult> {
    const attrs = request.node.attrs;
    const delay = Number(attrs["simulate.delay_ms"] ?? 0);
    if (!(delay >= 0)) {
      return {
        status: "fail",
        failureReason: `simulate.delay_ms=${
          JSON.stringify(attrs["simulate.delay_ms"])
        } is not a number of milliseconds`,
      };
    }
    if (delay > 0) await abortableSleep(delay, request.signal);
    const text = `[Simulated] Response for stage: ${request.node.id}`;
    const script = attrs["simulate.outcomes"] ?? attrs["simulate.outcome"];
    const updates: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith("simulate.context.")) updates[k.slice("simulate.context.".length)] = v;
    }
    const preferredLabel = attrs["simulate.preferred_label"];
    if (!script && !preferredLabel && Object.keys(updates).length === 0) return text;
    const list = (script ?? "success").split(",").map((s) => s.trim()).filter(Boolean);
    // A misspelt script is the author's mistake: it fails loudly (on any execution, whichever
    // entry is misspelt), never runs as a success.
    const statuses = list.map(parseStatus);
    const wrong = statuses.indexOf(undefined);
    if (wrong >= 0) {
      return {
        status: "fail",
        failureReason: `simulate.outcomes names ${
          JSON.stringify(list[wrong])
        }, which is not a status (success, partial_success, retry, fail, skipped)`,
      };
    }
    const status = statuses[Math.min(request.priorExecutions, statuses.length - 1)] ?? "success";
    return {
      text,
      outcome: {
        status,
        preferredLabel,
        contextUpdates: {
          last_stage: request.node.id,
          last_response: text,
          ...updates,
        },
        notes: `simulated ${status}`,
        failureReason: status === "fail" || status === "retry"
          ? `simulated ${status} (execution ${request.priorExecutions + 1})`
          : undefined,
      },
    };
  }
}

/** Answers from a per-node script of texts or outcomes (the last entry repeats). For tests. */
export class ScriptedBackend implements CodergenBackend {
  readonly #script: Map<string, (string | Outcome | CodergenResult)[]>;
  /** Every request, in order. */
  readonly requests: CodergenRequest[] = [];
  /** Creates it from node id → replies. */
  constructor(script: Readonly<Record<string, readonly (string | Outcome | CodergenResult)[]>>) {
    this.#script = new Map(Object.entries(script).map(([k, v]) => [k, [...v]]));
  }
  /** The next scripted reply of the node, else the simulation text. */
  run(request: CodergenRequest): Promise<string | Outcome | CodergenResult> {
    this.requests.push(request);
    const replies = this.#script.get(request.node.id);
    if (!replies?.length) return Promise.resolve(`[Scripted] ${request.node.id}`);
    const reply = replies.length > 1 ? replies.shift()! : replies[0];
    return Promise.resolve(reply);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const cancel = afterDelay(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    const onAbort = () => {
      cancel();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
