/**
 * An agent session as text, for `forge inspect --stage`: the transcript,
 * every tool call with its arguments and its full result (clipped to a few
 * lines unless asked for all), and the subagents, each read back in turn.
 *
 * @module
 */
import type { SessionView } from "@forge/agent";
import { formatDuration } from "../trace/text.ts";

/** Options of {@link renderSessionDetail}. */
export interface SessionTextOptions {
  /** Lines of each tool result and argument block to show; default 12; Infinity for all. */
  readonly maxLines?: number;
}

function block(text: string, indent: string, maxLines: number): string[] {
  const lines = text.replace(/\s+$/, "").split("\n");
  const shown = lines.slice(0, maxLines).map((l) => `${indent}${l}`);
  if (lines.length > maxLines) {
    shown.push(`${indent}… ${lines.length - maxLines} more lines (--full)`);
  }
  return shown;
}

function args(json: string | undefined): string {
  if (json === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

/** Renders a session tree. */
export function renderSessionDetail(
  view: SessionView,
  options: SessionTextOptions = {},
  indent = "",
): string {
  const max = options.maxLines ?? 12;
  const out: string[] = [];
  const span = view.startedAt && view.endedAt
    ? `, ${formatDuration(view.endedAt - view.startedAt)}`
    : "";
  out.push(
    `${indent}session ${view.sessionId} — context ${view.contextId}, ${
      view.finalState ?? "running"
    }` +
      `${view.model ? `, model ${view.model}` : ""}${span}` +
      `${view.inheritedTurns ? ` (forked: shares ${view.inheritedTurns} turns)` : ""}`,
  );
  out.push(`${indent}  transcript:`);
  const calls = new Map(view.toolCalls.map((c) => [c.callId, c]));
  for (const e of view.transcript) {
    const at = `${indent}    [${e.turnId}]`;
    switch (e.kind) {
      case "user":
      case "system":
      case "steering":
        out.push(`${at} ${e.kind}:`, ...block(e.content, `${indent}      `, max));
        break;
      case "assistant": {
        const usage = e.usage ? ` (${e.usage.inputTokens} in, ${e.usage.outputTokens} out)` : "";
        out.push(`${at} assistant${usage}:`);
        if (e.text) out.push(...block(e.text, `${indent}      `, max));
        for (const c of e.toolCalls) {
          const call = calls.get(c.callId);
          const took = call?.durationMs === undefined ? "" : ` ${formatDuration(call.durationMs)}`;
          out.push(
            `${indent}      → ${c.name} (${c.callId})${took}${call?.isError ? " ERROR" : ""}`,
          );
          out.push(...block(args(c.arguments), `${indent}          `, max));
          if (call?.output !== undefined) {
            out.push(`${indent}        result:`, ...block(call.output, `${indent}          `, max));
          }
        }
        break;
      }
      case "tool_results":
        // The full outputs are shown under each call above; note only what the model got.
        out.push(
          `${at} tool results → model: ${
            e.results.map((r) => `${r.toolName}${r.isError ? " (error)" : ""}`).join(", ")
          }`,
        );
        break;
    }
  }
  for (const sub of view.subagents) {
    out.push(
      `${indent}  subagent ${sub.agentId} (${sub.status ?? "running"}${
        sub.modelCallsUsed === undefined ? "" : `, ${sub.modelCallsUsed} model calls`
      }): ${sub.task}`,
    );
    if (sub.output) out.push(`${indent}    output:`, ...block(sub.output, `${indent}      `, max));
    if (sub.session) out.push(renderSessionDetail(sub.session, options, `${indent}    `));
  }
  return out.join("\n");
}
