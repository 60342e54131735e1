/**
 * The manager loop handler (spec §4.11): starts a real child pipeline
 * (`stack.child_dotfile`, from the node or the graph), then observes it
 * every `manager.poll_interval` (default 45s) for up to `manager.max_cycles`
 * cycles: its latest checkpoint goes into the context as `stack.child.*`,
 * `manager.stop_condition` is evaluated, and with the `steer` action the
 * node's `manager.steer_prompt` is written to the child's active stage
 * directory as `steer.md`. The child's end decides the outcome.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { ChildPipelineError, type Handler, type HandlerInput } from "../engine/handler.ts";
import type { Outcome } from "../engine/outcome.ts";
import type { Checkpoint } from "../engine/checkpoint.ts";
import { evaluateCondition, parseDuration } from "../engine/graph_api.ts";
import { abortableSleep } from "./backend.ts";

/** Supervises a child pipeline. */
export class ManagerLoopHandler implements Handler {
  /** Executes the loop. */
  async execute(input: HandlerInput): Promise<Outcome> {
    const { node, graph } = input;
    const dotfile = node.attrs["stack.child_dotfile"] ?? graph.attrs.raw["stack.child_dotfile"];
    if (!dotfile) {
      return { status: "fail", failureReason: `manager ${node.id} has no stack.child_dotfile` };
    }
    const pollMs = parseDuration(node.attrs["manager.poll_interval"] ?? "45s") ?? 45_000;
    const maxCycles = Number.parseInt(node.attrs["manager.max_cycles"] ?? "1000", 10) || 1000;
    const stop = node.attrs["manager.stop_condition"] ?? "";
    const actions = (node.attrs["manager.actions"] ?? "observe,wait").split(",").map((a) =>
      a.trim()
    );
    const childLogs = join(input.stageDir, "child");
    const childAbort = new AbortController();
    const signal = AbortSignal.any([input.signal, childAbort.signal]);
    let latest: Checkpoint | undefined;
    let ended:
      | { status: string; failureReason?: string; completedNodes: readonly string[] }
      | undefined;
    let crash: unknown;
    const autostart = (node.attrs["stack.child_autostart"] ?? "true") !== "false";
    if (!autostart) {
      return {
        status: "fail",
        failureReason: "stack.child_autostart=false: attaching to a running child is not supported",
      };
    }
    const child = input.runChild({
      dotPath: resolve(input.baseDir, dotfile),
      logsRoot: childLogs,
      signal,
      onCheckpoint: (c) => (latest = c),
    }).then((r) => (ended = r), (e) => (crash = e));
    const updates: Record<string, string | number> = {};
    const observe = () => {
      updates["stack.child.status"] = ended
        ? (ended.status === "success" || ended.status === "partial_success"
          ? "completed"
          : "failed")
        : "running";
      if (ended) updates["stack.child.outcome"] = ended.status;
      if (latest) {
        updates["stack.child.current_node"] = latest.current_node;
        updates["stack.child.completed_count"] = latest.completed_nodes.length;
        updates["stack.child.retry_count"] = Object.values(latest.node_retries).reduce(
          (a, b) => a + b,
          0,
        );
      }
      input.context.applyUpdates(updates);
    };
    try {
      for (let cycle = 1; cycle <= maxCycles; cycle++) {
        if (actions.includes("observe")) observe();
        if (crash) {
          return {
            status: "fail",
            failureReason: crash instanceof ChildPipelineError
              ? crash.message
              : `child pipeline failed to run: ${(crash as Error).message}`,
            contextUpdates: updates,
          };
        }
        if (ended) {
          observe();
          return ended.status === "success" || ended.status === "partial_success"
            ? {
              status: "success",
              notes: `Child completed after ${cycle} cycles`,
              contextUpdates: updates,
            }
            : {
              status: "fail",
              failureReason: `Child failed: ${ended.failureReason ?? ended.status}`,
              contextUpdates: updates,
            };
        }
        if (actions.includes("steer") && latest && node.attrs["manager.steer_prompt"]) {
          const dir = join(childLogs, latest.next_node ?? latest.current_node);
          await Deno.mkdir(dir, { recursive: true });
          await Deno.writeTextFile(join(dir, "steer.md"), node.attrs["manager.steer_prompt"]);
        }
        if (
          stop && evaluateCondition(stop, { outcome: "success", context: input.context.snapshot() })
        ) {
          childAbort.abort();
          await child;
          return { status: "success", notes: "Stop condition satisfied", contextUpdates: updates };
        }
        // Wait for the poll interval or the child's end, whichever comes first.
        if (actions.includes("wait")) {
          await Promise.race([abortableSleep(pollMs, input.signal), child]);
        } else {
          await Promise.race([child, Promise.resolve()]);
        }
      }
      childAbort.abort();
      await child;
      return {
        status: "fail",
        failureReason: `Max cycles exceeded (${maxCycles})`,
        contextUpdates: updates,
      };
    } finally {
      childAbort.abort();
      await child;
    }
  }
}
