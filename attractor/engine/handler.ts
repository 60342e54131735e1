/**
 * The handler interface (spec §4.1) and registry (§4.2): what every node
 * type implements, what it is given, and how a node finds its handler.
 *
 * @module
 */
import { SHAPE_HANDLER_TYPES } from "../graph/build.ts";
import type { Graph, Node } from "../graph/types.ts";
import type { RunContext } from "./context.ts";
import type { Outcome } from "./outcome.ts";
import type { PipelineEventData } from "./events.ts";
import type { RunRecorder } from "../persist/recorder.ts";
import type { Interviewer } from "../interview/types.ts";
import type { CodergenBackend } from "../handlers/backend.ts";

/** What the engine knows about the run so far, for preambles and observers. */
export interface RunState {
  /** The run id. */
  readonly runId: string;
  /** Nodes completed so far, in order. */
  readonly completedNodes: readonly string[];
  /** The latest outcome per node. */
  readonly nodeOutcomes: ReadonlyMap<string, Outcome>;
}

/** Runs part of the graph on its own context (a parallel branch). */
export interface BranchRunner {
  /**
   * Runs from `startNodeId` until a node in `stopAt` (not run) or a node
   * without a next edge; returns the last outcome and the nodes run.
   */
  runBranch(options: {
    readonly startNodeId: string;
    readonly stopAt: ReadonlySet<string>;
    readonly context: RunContext;
    readonly recorder: RunRecorder;
    readonly signal: AbortSignal;
    readonly branchId: string;
  }): Promise<{ outcome: Outcome; completedNodes: string[]; stoppedAt?: string }>;
}

/** Everything a handler is given for one execution. */
export interface HandlerInput {
  /** The node, with all its attributes. */
  readonly node: Node;
  /** The run context (read/write; prefer returning `contextUpdates`). */
  readonly context: RunContext;
  /** The whole graph. */
  readonly graph: Graph;
  /** The run's log directory. */
  readonly logsRoot: string;
  /** This node's stage directory (`logsRoot/<node id>`), already created. */
  readonly stageDir: string;
  /** Aborted when the run is cancelled or the node's `timeout` expires. */
  readonly signal: AbortSignal;
  /** The run id. */
  readonly runId: string;
  /** The stage attempt, unique within the run. */
  readonly stageAttemptId: string;
  /** Attempt number of this execution, from 1. */
  readonly attempt: number;
  /** How many times this node ran before in the run (earlier visits and retries). */
  readonly priorExecutions: number;
  /** The resolved context fidelity (spec §5.4). */
  readonly fidelity: string;
  /** The thread key under `full` fidelity. */
  readonly threadKey?: string;
  /** The store turn of this stage's `started` record, once stored (agent sessions fork from it). */
  readonly stageTurnId: () => Promise<string | undefined>;
  /** Where this stage's records go. */
  readonly recorder: RunRecorder;
  /** Emits an engine event (parallel and interview events come from handlers). */
  readonly emit: (event: PipelineEventData) => void;
  /** The run so far. */
  readonly state: RunState;
  /** Runs branches (for the parallel handler). */
  readonly branches: BranchRunner;
  /** The human-in-the-loop frontend. */
  readonly interviewer: Interviewer;
  /** The LLM backend. */
  readonly backend: CodergenBackend;
  /** The directory DOT paths in node attributes are relative to. */
  readonly baseDir: string;
  /** Runs a whole child pipeline (for the manager loop). */
  readonly runChild: ChildPipelineRunner;
}

/** Runs a child pipeline file to completion, observing its checkpoints. */
export type ChildPipelineRunner = (options: {
  readonly dotPath: string;
  readonly logsRoot: string;
  readonly signal: AbortSignal;
  readonly onCheckpoint?: (checkpoint: import("./checkpoint.ts").Checkpoint) => void;
}) => Promise<{ status: string; failureReason?: string; completedNodes: readonly string[] }>;

/**
 * A manager loop's child pipeline could not be started: its file cannot be
 * read, does not parse, fails lint, is one of its own parents, or nests too
 * deep. The message names the child's file; the manager stage fails with it.
 */
export class ChildPipelineError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "ChildPipeline" as const;
  /** Creates the error for the child pipeline file `path`: "child pipeline <path> <problem>". */
  constructor(readonly path: string, problem: string, options?: ErrorOptions) {
    super(`child pipeline ${path} ${problem}`, options);
    this.name = "ChildPipelineError";
  }
}

/** A node type's behaviour. */
export interface Handler {
  /** Executes the node; a thrown error becomes a FAIL outcome. */
  execute(input: HandlerInput): Promise<Outcome>;
}

/** Maps handler types to handlers; unknown types fall back to the default handler. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, Handler>();
  #default?: Handler;

  /** Registers (or replaces) the handler of `type`. */
  register(type: string, handler: Handler): this {
    this.#handlers.set(type, handler);
    return this;
  }

  /** Sets the handler of nodes whose type is not registered (codergen by default). */
  setDefault(handler: Handler): this {
    this.#default = handler;
    return this;
  }

  /** True when `type` has a handler. */
  has(type: string): boolean {
    return this.#handlers.has(type);
  }

  /** Registered types. */
  types(): string[] {
    return [...this.#handlers.keys()];
  }

  /** The handler of a node: its `type`, else its shape's type, else the default. */
  resolve(node: Node): Handler {
    if (node.type && this.#handlers.has(node.type)) return this.#handlers.get(node.type)!;
    const byShape = SHAPE_HANDLER_TYPES[node.shape];
    if (byShape && this.#handlers.has(byShape)) return this.#handlers.get(byShape)!;
    if (node.handlerType && this.#handlers.has(node.handlerType)) {
      return this.#handlers.get(node.handlerType)!;
    }
    const fallback = this.#default ?? this.#handlers.get("codergen");
    if (!fallback) throw new TypeError(`no handler for node ${node.id} and no default handler`);
    return fallback;
  }
}
