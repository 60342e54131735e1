/**
 * Subagents (coding-agent-loop spec §7): the spawn_agent, send_input, wait
 * and close_agent tools, and the bookkeeping behind them. A subagent is a
 * child session with its own history that shares the parent's execution
 * environment. With persistence on, its context is a FORK of the parent's
 * turn at spawn, and link records on the parent's context name both sides
 * (forge.link.subagent_spawn, forge.link.subagent_close).
 *
 * @module
 */
import { z } from "zod";
import { defineTool, fail, ok } from "../tools/define.ts";
import type { RegisteredTool } from "../tools/types.ts";
import { SubagentClose, SubagentSpawn, type SubagentStatusLabel } from "../records.ts";
import type { SessionConfig } from "./config.ts";
import type { SessionEvent, SessionEventData } from "./events.ts";
import type { SessionWriter } from "./persistence.ts";
import { resolveIn, ScopedEnvironment } from "./scoped_env.ts";

/** What the manager needs of a child session (a {@link Session}). */
export interface ChildSession {
  /** Session id. */
  readonly id: string;
  /** "idle" | "processing" | "awaiting_input" | "closed". */
  readonly state: string;
  /** Its store context. */
  readonly contextId: string | undefined;
  /** Its last stored turn. */
  readonly headTurnId: string;
  /** Model calls made. */
  readonly modelCallCount: number;
  /** Text of its last response. */
  readonly lastText: string;
  /** Starts it. */
  start(): Promise<void>;
  /** Runs an input. */
  submit(input: string): Promise<{ stopReason: string; text: string }>;
  /** Steers it. */
  steer(message: string): void;
  /** Aborts it. */
  abort(reason?: unknown): void;
  /** Closes it. */
  close(): Promise<void>;
  /** Its events. */
  events(signal?: AbortSignal): AsyncIterableIterator<SessionEvent>;
}

/** The parent as the manager sees it. */
export interface ParentSession {
  /** Session id. */
  readonly id: string;
  /** Nesting depth. */
  readonly depth: number;
  /** Aborts when the parent closes. */
  readonly signal: AbortSignal;
}

/** Options of {@link SubagentManager}. */
export interface SubagentManagerOptions {
  /** The parent's configuration, inherited by children. */
  readonly config: SessionConfig;
  /** The parent's writer: link records go on the parent's context. */
  readonly writer: SessionWriter;
  /** Emits an event on the parent's stream. */
  readonly emit: (data: SessionEventData) => void;
  /** The deepest a subagent may be (default spec value 1). */
  readonly maxDepth: number;
  /** Creates a child session; set by the session (avoids a module cycle). */
  readonly createSession?: (config: SessionConfig) => ChildSession;
}

/** What `wait` returns (spec §7.3 SubAgentResult). */
export interface SubagentResult {
  /** The subagent's final text. */
  readonly output: string;
  /** Whether its last input completed without error. */
  readonly success: boolean;
  /** Model calls it made. */
  readonly modelCallsUsed: number;
}

interface Handle {
  readonly id: string;
  readonly session: ChildSession;
  readonly task: string;
  status: "running" | "completed" | "failed" | "closed";
  running: Promise<void>;
  error?: unknown;
  closed: boolean;
}

/** Creates, drives and closes a session's subagents. */
export class SubagentManager {
  readonly #parent: ParentSession;
  readonly #options: SubagentManagerOptions;
  readonly #handles = new Map<string, Handle>();
  #next = 0;
  #createSession?: (config: SessionConfig) => ChildSession;

  /** Creates the manager of `parent`'s subagents. */
  constructor(parent: ParentSession, options: SubagentManagerOptions) {
    this.#parent = parent;
    this.#options = options;
    this.#createSession = options.createSession;
  }

  /** Sets how child sessions are created. */
  setSessionFactory(create: (config: SessionConfig) => ChildSession): void {
    this.#createSession = create;
  }

  /** Ids of subagents not yet closed. */
  get openIds(): string[] {
    return [...this.#handles.values()].filter((h) => !h.closed).map((h) => h.id);
  }

  /**
   * Spawns a subagent on `task`: a child session at depth + 1, whose context
   * forks the parent's current turn, and which starts working at once.
   */
  async spawn(
    args: { task: string; working_dir?: string; model?: string; max_model_calls?: number },
  ): Promise<{ agentId: string; sessionId: string; contextId?: string }> {
    const depth = this.#parent.depth + 1;
    if (depth > this.#options.maxDepth) {
      throw new Error(
        `subagent depth limit reached: this session is at depth ${this.#parent.depth} and ` +
          `maxSubagentDepth is ${this.#options.maxDepth}; do the task yourself`,
      );
    }
    if (!this.#createSession) throw new Error("subagents are not available in this session");
    const config = this.#options.config;
    const writer = this.#options.writer;
    // The fork point is the parent's latest stored turn (the call that spawns).
    await writer.flush();
    const forkFromTurnId = writer.headTurnId;
    let env = config.env;
    if (args.working_dir) {
      const dir = resolveIn(env, args.working_dir);
      await env.listDirectory(dir, 1, this.#parent.signal).catch((error) => {
        throw new Error(
          `working_dir ${args.working_dir} is not a usable directory: ${error.message}`,
        );
      });
      env = new ScopedEnvironment(env, dir);
    }
    const agentId = `agent-${++this.#next}`;
    const child = this.#createSession({
      ...config,
      env,
      sessionId: undefined,
      signal: undefined,
      profile: args.model ? config.profile.withModel(args.model) : config.profile,
      maxModelCalls: args.max_model_calls ?? 0,
      origin: { depth, parentSessionId: this.#parent.id, forkFromTurnId },
    });
    this.#forward(agentId, child);
    await child.start();
    if (writer.enabled && child.contextId !== undefined) {
      await writer.append(
        SubagentSpawn,
        {
          at: Date.now(),
          forkedFromTurnId: forkFromTurnId,
          childContextId: child.contextId,
          childSessionId: child.id,
          subagentId: agentId,
          subagentDepth: depth,
          task: args.task,
          workingDir: args.working_dir,
          model: args.model,
        },
        "subagent_spawn",
      );
    }
    const handle: Handle = {
      id: agentId,
      session: child,
      task: args.task,
      status: "running",
      running: Promise.resolve(),
      closed: false,
    };
    this.#handles.set(agentId, handle);
    this.#run(handle, args.task);
    this.#options.emit({
      kind: "subagent_spawned",
      agentId,
      childSessionId: child.id,
      depth,
      task: args.task,
      childContextId: child.contextId,
    });
    return { agentId, sessionId: child.id, contextId: child.contextId };
  }

  /** Sends a message: steering while the subagent works, a new input when it is idle. */
  sendInput(agentId: string, message: string): string {
    const handle = this.#get(agentId);
    if (handle.session.state === "processing") {
      handle.session.steer(message);
      return `message queued for ${agentId} (it is working; delivered after its current tool round)`;
    }
    this.#run(handle, message);
    return `message sent to ${agentId}; it is working on it`;
  }

  /** Waits until the subagent finishes its current work. */
  async wait(agentId: string, signal?: AbortSignal): Promise<SubagentResult> {
    const handle = this.#get(agentId);
    if (signal) {
      await Promise.race([
        handle.running,
        new Promise((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
      ]);
    } else await handle.running;
    return {
      output: handle.session.lastText,
      success: handle.status === "completed",
      modelCallsUsed: handle.session.modelCallCount,
    };
  }

  /** Closes a subagent (aborting its work) and records the close on the parent's context. */
  async close(agentId: string): Promise<SubagentStatusLabel> {
    const handle = this.#get(agentId);
    return await this.#close(handle);
  }

  /** Closes every open subagent. */
  async closeAll(): Promise<void> {
    for (const handle of this.#handles.values()) {
      if (!handle.closed) await this.#close(handle).catch(() => {});
    }
  }

  /** The four subagent tools, bound to this manager. */
  tools(): RegisteredTool[] {
    return [
      defineTool({
        name: "spawn_agent",
        description: "Spawn a subagent to handle a scoped task autonomously. " +
          "It shares your filesystem and works in parallel; use wait to get its result.",
        schema: z.object({
          task: z.string().min(1).describe("natural language task description"),
          working_dir: z.string().optional().describe("subdirectory to scope the agent to"),
          model: z.string().optional().describe("model override (default: yours)"),
          max_model_calls: z.number().int().min(0).optional().describe(
            "model-call limit (0 = unlimited)",
          ),
        }),
        execute: async (args) => {
          const r = await this.spawn(args);
          return ok(JSON.stringify({ agent_id: r.agentId, status: "running" }));
        },
      }),
      defineTool({
        name: "send_input",
        description: "Send a message to a subagent.",
        schema: z.object({
          agent_id: z.string().min(1).describe("the subagent's id"),
          message: z.string().min(1).describe("the message"),
        }),
        execute: (args) => Promise.resolve(ok(this.sendInput(args.agent_id, args.message))),
      }),
      defineTool({
        name: "wait",
        description: "Wait for a subagent to complete and return its result.",
        schema: z.object({ agent_id: z.string().min(1).describe("the subagent's id") }),
        execute: async (args, ctx) => {
          const r = await this.wait(args.agent_id, ctx.signal);
          const body = JSON.stringify({
            output: r.output,
            success: r.success,
            model_calls_used: r.modelCallsUsed,
          });
          return r.success ? ok(body) : fail(body);
        },
      }),
      defineTool({
        name: "close_agent",
        description: "Terminate a subagent.",
        schema: z.object({ agent_id: z.string().min(1).describe("the subagent's id") }),
        execute: async (args) => {
          const status = await this.close(args.agent_id);
          return ok(JSON.stringify({ agent_id: args.agent_id, status }));
        },
      }),
    ];
  }

  #get(agentId: string): Handle {
    const handle = this.#handles.get(agentId);
    if (!handle) {
      const known = [...this.#handles.keys()];
      throw new Error(
        `no subagent ${JSON.stringify(agentId)}${
          known.length ? ` (known: ${known.join(", ")})` : " (none spawned)"
        }`,
      );
    }
    if (handle.closed) throw new Error(`subagent ${agentId} is closed`);
    return handle;
  }

  #run(handle: Handle, input: string): void {
    handle.status = "running";
    handle.running = handle.running.then(async () => {
      try {
        const result = await handle.session.submit(input);
        handle.status = result.stopReason === "aborted" ? "failed" : "completed";
      } catch (error) {
        handle.status = "failed";
        handle.error = error;
      }
    });
  }

  async #close(handle: Handle): Promise<SubagentStatusLabel> {
    if (handle.closed) return handle.status === "running" ? "closed" : toLabel(handle.status);
    handle.closed = true;
    const wasRunning = handle.status === "running";
    if (wasRunning) handle.session.abort(new DOMException("subagent closed", "AbortError"));
    await handle.running;
    await handle.session.close();
    const status: SubagentStatusLabel = wasRunning ? "closed" : toLabel(handle.status);
    handle.status = "closed";
    const writer = this.#options.writer;
    const childContextId = handle.session.contextId;
    // Recorded even while the parent shuts down: the close is part of the tree.
    if (writer.enabled && childContextId !== undefined) {
      await writer.append(
        SubagentClose,
        {
          at: Date.now(),
          subagentId: handle.id,
          childContextId,
          childSessionId: handle.session.id,
          status,
          childHeadTurnId: handle.session.headTurnId,
          output: handle.session.lastText || undefined,
          modelCallsUsed: handle.session.modelCallCount,
        },
        "subagent_close",
      );
    }
    this.#options.emit({ kind: "subagent_closed", agentId: handle.id, status });
    return status;
  }

  #forward(agentId: string, child: ChildSession): void {
    const events = child.events();
    (async () => {
      for await (const event of events) {
        this.#options.emit({ kind: "subagent_event", agentId, event });
      }
    })();
  }
}

function toLabel(status: Handle["status"]): SubagentStatusLabel {
  return status === "running" ? "closed" : status;
}
