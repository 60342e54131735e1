/**
 * One attempt of a run: the spec's core loop (§3.2) with goal gates (§3.4),
 * failure routing (§3.7 as the reference settles it), bounded visits, the
 * checkpoint after every stage, and parallel branches run on copies of the
 * context until their fan-in node.
 *
 * @module
 */
import type { Edge, Graph, Node } from "../graph/types.ts";
import { getNode, isExitNode, outgoingEdges, selectEdge, startNode } from "./graph_api.ts";
import type { RunContext } from "./context.ts";
import { type Checkpoint, nextCheckpointId, serializeCheckpoint } from "./checkpoint.ts";
import type { CheckpointOutcomes } from "./checkpoint_outcome.ts";
import type { BranchRunner, HandlerInput, HandlerRegistry, RunState } from "./handler.ts";
import { isSuccess, type Outcome, type StageStatus } from "./outcome.ts";
import { executeStage, type StageEnv } from "./stage.ts";
import { resolveFidelity, resolveThreadKey } from "./fidelity.ts";
import type { PipelineEventData } from "./events.ts";
import type { RunRecorder } from "../persist/recorder.ts";
import type { RouteStep } from "../records.ts";
import { recordCheckpoint, recordRoute } from "../persist/run_records.ts";
import { copyMap, objectFromMap } from "../persist/checkpoint_delta.ts";
import { writeCheckpointFile } from "../persist/rundir.ts";
import { WaitingForAnswer } from "../interview/types.ts";

/** The stage a route decision belongs to. */
type RouteRef = Parameters<typeof recordRoute>[1];

/** Services shared by every attempt of a run. */
export interface RunServices {
  readonly graph: Graph;
  readonly runId: string;
  readonly runDir: string;
  readonly handlers: HandlerRegistry;
  readonly signal: AbortSignal;
  readonly emit: (event: PipelineEventData) => void;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random: () => number;
  readonly dotHash: string;
  readonly handlerInput: Omit<
    StageEnv["input"],
    "state" | "branches"
  >;
}

/** Mutable state of one attempt (what the checkpoint serializes). */
export interface AttemptState {
  readonly lineageAttempt: number;
  restarts: number;
  stageIndex: number;
  readonly context: RunContext;
  readonly completed: string[];
  readonly outcomes: Map<string, Outcome>;
  /** The checkpoint form of each outcome, kept while the outcome is the node's latest. */
  readonly forms: CheckpointOutcomes;
  readonly retries: Record<string, number>;
  readonly visits: Record<string, number>;
  /** Executions per node over the whole run (restarts and retries included). */
  readonly executions: Record<string, number>;
  lastFidelity?: string;
  /** The first stage after a resume runs `full` as `summary:high`. */
  degradeFull: boolean;
  readonly logsRoot: string;
  readonly recorder: RunRecorder;
  /** The id of the attempt's latest checkpoint record, so the next one gets a new id. */
  lastCheckpointId?: string;
}

/** How an attempt ended. */
export type AttemptEnd =
  | {
    readonly kind: "finished";
    readonly status: StageStatus;
    readonly reason?: string;
    readonly lastNode: string;
  }
  | { readonly kind: "restart"; readonly target: string; readonly from: string }
  | {
    readonly kind: "waiting";
    /** The node to run again once answered (the gate, or the parallel node a branch's gate is in). */
    readonly nodeId: string;
    /** The gate that asked (the node the answer is for). */
    readonly gateId: string;
    readonly question: string;
    readonly options: string[];
    readonly incoming?: Edge;
  };

/** Runs one attempt from `from` (the start node, a restart target or a checkpoint's next node). */
export class Traversal implements BranchRunner {
  readonly #s: RunServices;
  readonly #a: AttemptState;
  /**
   * Branch nodes completed during the current parallel stage, with their
   * outcomes, by branch id: they count as completed, and their outcomes are
   * the nodes' latest (so a goal gate inside a branch is checked at the exit).
   */
  readonly #branchCompleted = new Map<string, [string, Outcome][]>();
  /**
   * Whether the last checkpoint.json was compact (a state that large tries
   * compact first). The first one tries compact: cheap for a small state, and
   * a resumed run's large one is then made once.
   */
  #compactFile = true;

  /** Creates the traversal of one attempt. */
  constructor(services: RunServices, attempt: AttemptState) {
    this.#s = services;
    this.#a = attempt;
  }

  /** The run so far, for handlers. */
  get state(): RunState {
    return {
      runId: this.#s.runId,
      completedNodes: this.#a.completed,
      nodeOutcomes: this.#a.outcomes,
    };
  }

  /** The checkpoint of the current state. */
  checkpoint(current: string, extra: Partial<Checkpoint> = {}): Checkpoint {
    // Maps copied through the delta module, which keeps their keys and values for the store's diff.
    return {
      timestamp: new Date().toISOString(),
      current_node: current,
      completed_nodes: [...this.#a.completed],
      node_retries: copyMap(this.#a.retries),
      node_outcomes: objectFromMap(this.#a.outcomes, (o, id) => this.#a.forms.form(o, id)),
      context: this.#a.context.snapshot(),
      logs: [...this.#a.context.logs],
      node_visits: copyMap(this.#a.visits),
      node_executions: copyMap(this.#a.executions),
      run_id: this.#s.runId,
      lineage_attempt: this.#a.lineageAttempt,
      restarts: this.#a.restarts,
      stage_index: this.#a.stageIndex,
      last_fidelity: this.#a.lastFidelity,
      ...extra,
    };
  }

  /** Writes the checkpoint to the run directory and the store. */
  async saveCheckpoint(checkpoint: Checkpoint, stageAttemptId: string): Promise<void> {
    // The previous stage's records are durable before this stage's go (the store lags
    // checkpoint.json by one stage at most); a record that could not be stored stops the run here.
    if (this.#a.recorder.enabled) await this.#a.recorder.drained();
    this.#a.recorder.throwIfFailed();
    // The store's commit and the file's sync run at the same time. (Starting the store's work
    // only once the file's fdatasync is in flight measured slower: bench/README.md, fourth pass.)
    const checkpointId = nextCheckpointId(
      this.#s.runId,
      checkpoint.lineage_attempt,
      checkpoint.stage_index,
      this.#a.lastCheckpointId,
    );
    this.#a.lastCheckpointId = checkpointId;
    const stored = recordCheckpoint(this.#a.recorder, checkpoint, {
      stageAttemptId,
      dotHash: this.#s.dotHash,
      graphId: this.#s.graph.id,
      checkpointId,
    });
    stored.catch(() => {});
    const file = checkpointFileText(checkpoint, this.#compactFile);
    this.#compactFile = file.compact;
    await writeCheckpointFile(this.#s.runDir, file.text);
    await stored;
    this.#s.emit({ kind: "checkpoint_saved", nodeId: checkpoint.current_node });
  }

  /** Runs the attempt from `fromId` (entered through `incoming`, when known). */
  async run(fromId: string | undefined, incoming?: Edge): Promise<AttemptEnd> {
    const graph = this.#s.graph;
    let current = fromId ? getNode(graph, fromId) : startNode(graph);
    if (!current) throw new TypeError(`node ${fromId ?? "start"} does not exist in the graph`);
    let previous: string | undefined = incoming?.from;
    while (true) {
      const node: Node = current;
      if (isExitNode(graph, node)) {
        const gate = this.#unsatisfiedGate();
        if (gate) {
          const target = this.#gateRetryTarget(gate);
          const ref = this.#routeRef(gate.id);
          if (!target) return this.#gateFailed(gate, node, ref);
          this.#gateRetry(gate, node, target, ref);
          previous = node.id;
          incoming = undefined;
          current = getNode(graph, target)!;
          continue;
        }
        return { kind: "finished", status: "success", lastNode: node.id };
      }
      const maxVisits = node.maxVisits ?? graph.attrs.defaultMaxVisits;
      const visits = (this.#a.visits[node.id] ?? 0) + 1;
      if (maxVisits > 0 && visits > maxVisits) {
        const reason = `node ${node.id} exceeded max_visits=${maxVisits}`;
        return { kind: "finished", status: "fail", reason, lastNode: node.id };
      }
      this.#a.visits[node.id] = visits;
      // The spec's `current_node` is the node executing now: its handler (and preamble) sees itself.
      this.#a.context.set("current_node", node.id);
      let result;
      try {
        result = await this.#stage(node, incoming, previous, this.#a.context, this.#a.recorder);
      } catch (error) {
        // A stage that did not finish (cancelled, waiting) is not a visit: resume runs it again.
        this.#a.visits[node.id] = visits - 1;
        if (error instanceof WaitingForAnswer) {
          this.#branchCompleted.clear();
          return {
            kind: "waiting",
            nodeId: node.id,
            gateId: error.question.stage || node.id,
            question: error.question.text,
            options: error.question.options.map((o) => o.label),
            incoming,
          };
        }
        throw error;
      }
      const outcome = result.outcome;
      // Branch nodes count as completed, in the parallel node's edge order (not finish order),
      // and their outcomes are recorded as any stage's are: goal gates check every visited node.
      for (const edge of outgoingEdges(graph, node.id)) {
        for (const [id, branchOutcome] of this.#branchCompleted.get(edge.to) ?? []) {
          this.#a.completed.push(id);
          if (branchOutcome.status !== "skipped") this.#a.outcomes.set(id, branchOutcome);
        }
      }
      this.#branchCompleted.clear();
      this.#a.completed.push(node.id);
      this.#a.stageIndex++;
      if (outcome.status !== "skipped") this.#a.outcomes.set(node.id, outcome);
      this.#a.context.applyUpdates(outcome.contextUpdates);
      this.#a.context.set("outcome", outcome.status);
      if (outcome.preferredLabel) this.#a.context.set("preferred_label", outcome.preferredLabel);
      this.#a.context.set("current_node", node.id);
      const route = this.#route(node, outcome);
      const ref = { ...this.#routeRef(node.id), stageAttemptId: result.stageAttemptId };
      if (!route.to) {
        const failed = outcome.status === "fail";
        // A run that ends without reaching the exit ends all the same: its goal gates must hold
        // (spec §11.3: the outcome is success only if every goal gate succeeded).
        const gate = failed ? undefined : this.#unsatisfiedGate();
        if (gate) {
          const target = this.#gateRetryTarget(gate);
          if (!target) return this.#gateFailed(gate, node, ref);
          this.#gateRetry(gate, node, target, ref);
          await this.saveCheckpoint(
            this.checkpoint(node.id, { next_node: target }),
            result.stageAttemptId,
          );
          previous = node.id;
          incoming = undefined;
          current = getNode(graph, target)!;
          continue;
        }
        const reason = failed
          ? outcome.failureReason || `stage ${node.id} failed with no failure route`
          : undefined;
        recordRoute(this.#a.recorder, ref, {
          step: "none",
          from: node.id,
          status: outcome.status,
          terminatedReason: reason ?? `no outgoing edge from ${node.id} is eligible`,
          terminatedStatus: failed ? "fail" : outcome.status,
        });
        return {
          kind: "finished",
          status: failed ? "fail" : outcome.status,
          reason: failed ? `stage ${node.id} failed: ${reason}` : undefined,
          lastNode: node.id,
        };
      }
      recordRoute(this.#a.recorder, ref, {
        step: route.step,
        from: node.id,
        to: route.to,
        label: route.edge?.label,
        condition: route.condition,
        loopRestart: route.edge?.loopRestart,
        status: outcome.status,
      });
      if (route.edge?.loopRestart) {
        return { kind: "restart", target: route.to, from: node.id };
      }
      await this.saveCheckpoint(
        this.checkpoint(node.id, {
          next_node: route.to,
          next_edge: route.edge ? `${route.edge.from}->${route.edge.to}` : undefined,
        }),
        result.stageAttemptId,
      );
      previous = node.id;
      incoming = route.edge;
      current = getNode(graph, route.to)!;
    }
  }

  /** The first goal gate (in completion order) whose latest outcome is not a success. */
  #unsatisfiedGate(): Node | undefined {
    for (const [id, outcome] of this.#a.outcomes) {
      const node = getNode(this.#s.graph, id);
      if (node?.goalGate && !isSuccess(outcome.status)) return node;
    }
    return undefined;
  }

  /** Where an unsatisfied gate sends the run: its targets, then the graph's (spec §3.4). */
  #gateRetryTarget(gate: Node): string | undefined {
    const graph = this.#s.graph;
    return [
      gate.retryTarget,
      gate.fallbackRetryTarget,
      graph.attrs.retryTarget,
      graph.attrs.fallbackRetryTarget,
    ].find((t) => t && getNode(graph, t));
  }

  /** Records the jump from `at` to `target` that re-runs unsatisfied `gate`. */
  #gateRetry(gate: Node, at: Node, target: string, ref: RouteRef): void {
    recordRoute(this.#a.recorder, ref, {
      step: "goal_gate_retry",
      from: at.id,
      to: target,
      status: this.#a.outcomes.get(gate.id)?.status,
    });
    this.#a.context.appendLog(`goal gate ${gate.id} unsatisfied: retrying at ${target}`);
  }

  /** Ends the attempt as failed: `gate` is unsatisfied and nothing retries it. */
  #gateFailed(gate: Node, at: Node, ref: RouteRef): AttemptEnd {
    const reason = `goal gate ${gate.id} is unsatisfied (${
      this.#a.outcomes.get(gate.id)?.status
    }) and no retry target is set`;
    recordRoute(this.#a.recorder, ref, {
      step: "none",
      from: at.id,
      terminatedReason: reason,
      terminatedStatus: "fail",
    });
    return { kind: "finished", status: "fail", reason, lastNode: at.id };
  }

  #routeRef(nodeId: string): RouteRef {
    return {
      runId: this.#s.runId,
      nodeId,
      stageAttemptId: `${nodeId}@${this.#a.stageIndex}`,
      attempt: 0,
    };
  }

  /**
   * Where to go after `node`: a handler's jump, else edge selection; a FAIL
   * takes only a true condition, then `retry_target`, then
   * `fallback_retry_target` (never an unconditional edge).
   */
  #route(
    node: Node,
    outcome: Outcome,
  ): { to?: string; edge?: Edge; step: RouteStep; condition?: string } {
    const graph = this.#s.graph;
    if (outcome.jumpTo && getNode(graph, outcome.jumpTo)) {
      return { to: outcome.jumpTo, step: "suggested_next_id" };
    }
    // A parallel node's edges are its branches, which have run: the run goes on only where they
    // joined (the jump above); taking one of them would run a branch again in the main line.
    const edges = node.handlerType === "parallel" ? [] : outgoingEdges(graph, node.id);
    const selection = selectEdge(edges, outcome, this.#a.context.snapshot());
    if (outcome.status === "fail") {
      if (selection?.step === "condition") {
        return {
          to: selection.edge.to,
          edge: selection.edge,
          step: "condition",
          condition: selection.matchedCondition,
        };
      }
      if (node.retryTarget && getNode(graph, node.retryTarget)) {
        return { to: node.retryTarget, step: "retry_target" };
      }
      if (node.fallbackRetryTarget && getNode(graph, node.fallbackRetryTarget)) {
        return { to: node.fallbackRetryTarget, step: "fallback_retry_target" };
      }
      return { step: "none" };
    }
    if (!selection) return { step: "none" };
    return {
      to: selection.edge.to,
      edge: selection.edge,
      step: selection.step,
      condition: selection.matchedCondition,
    };
  }

  /** Runs one stage of `node` on `context`. */
  async #stage(
    node: Node,
    incoming: Edge | undefined,
    previous: string | undefined,
    context: RunContext,
    recorder: RunRecorder,
    signal: AbortSignal = this.#s.signal,
  ) {
    let fidelity = resolveFidelity(this.#s.graph, node, incoming);
    if (node.handlerType === "codergen" && this.#a.degradeFull) {
      if (fidelity === "full") fidelity = "summary:high";
      this.#a.degradeFull = false;
    }
    const threadKey = fidelity === "full"
      ? resolveThreadKey(this.#s.graph, node, incoming, previous)
      : undefined;
    const counters = {
      retries: this.#a.retries,
      executions: (id: string) => this.#a.executions[id] ?? 0,
      executed: (id: string) => {
        this.#a.executions[id] = (this.#a.executions[id] ?? 0) + 1;
      },
    };
    const result = await executeStage(node, this.#s.handlers.resolve(node), {
      graph: this.#s.graph,
      runId: this.#s.runId,
      logsRoot: this.#a.logsRoot,
      context,
      recorder,
      signal,
      stageIndex: this.#a.stageIndex,
      counters,
      fidelity,
      threadKey,
      incoming,
      emit: this.#s.emit,
      sleep: this.#s.sleep,
      random: this.#s.random,
      input: { ...this.#s.handlerInput, state: this.state, branches: this },
    });
    if (node.handlerType === "codergen") this.#a.lastFidelity = fidelity;
    return result;
  }

  /** Runs a parallel branch on its own context and recorder until a fan-in node. */
  async runBranch(options: Parameters<BranchRunner["runBranch"]>[0]) {
    const graph = this.#s.graph;
    const completed: string[] = [];
    const outcomes: [string, Outcome][] = [];
    let current = getNode(graph, options.startNodeId);
    let incoming: Edge | undefined;
    let previous: string | undefined;
    let last: Outcome = { status: "success", notes: "empty branch" };
    const visits: Record<string, number> = Object.create(null);
    while (current && !options.stopAt.has(current.id) && !isExitNode(graph, current)) {
      const node: Node = current;
      visits[node.id] = (visits[node.id] ?? 0) + 1;
      const max = node.maxVisits ?? graph.attrs.defaultMaxVisits;
      if (max > 0 && visits[node.id] > max) {
        last = { status: "fail", failureReason: `node ${node.id} exceeded max_visits=${max}` };
        break;
      }
      options.context.set("current_node", node.id);
      const { outcome } = await this.#stage(
        node,
        incoming,
        previous,
        options.context,
        options.recorder,
        options.signal,
      );
      completed.push(node.id);
      outcomes.push([node.id, outcome]);
      last = outcome;
      options.context.applyUpdates(outcome.contextUpdates);
      options.context.set("outcome", outcome.status);
      const edges = outgoingEdges(graph, node.id);
      const selection = selectEdge(edges, outcome, options.context.snapshot());
      if (!selection || (outcome.status === "fail" && selection.step !== "condition")) break;
      previous = node.id;
      incoming = selection.edge;
      current = getNode(graph, selection.edge.to);
    }
    this.#branchCompleted.set(options.startNodeId, outcomes);
    return { outcome: last, completedNodes: completed, stoppedAt: current?.id };
  }
}

/** Re-exported for handlers that build inputs. */
export type { HandlerInput };

/** Checkpoints whose compact JSON reaches this size are written compact, not indented. */
const INDENTED_BELOW = 64 * 1024;

/**
 * The text of `checkpoint.json`: indented while the compact JSON is under
 * {@link INDENTED_BELOW}, else the compact JSON itself (`compact` says
 * which). States grow with a run, so the text that served last time is made
 * first (`compactFirst`: the last one was compact), and the other only when
 * the rule needs it; the compact text is never longer than the indented.
 */
function checkpointFileText(
  checkpoint: Checkpoint,
  compactFirst: boolean,
): { text: string; compact: boolean } {
  if (compactFirst) {
    const compact = JSON.stringify(checkpoint);
    if (compact.length >= INDENTED_BELOW) return { text: compact, compact: true };
    return { text: serializeCheckpoint(checkpoint), compact: false };
  }
  const indented = serializeCheckpoint(checkpoint);
  if (indented.length < INDENTED_BELOW) return { text: indented, compact: false };
  const compact = JSON.stringify(checkpoint);
  return compact.length < INDENTED_BELOW
    ? { text: indented, compact: false }
    : { text: compact, compact: true };
}
