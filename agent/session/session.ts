/**
 * The session: the agentic loop of the coding-agent-loop spec (§2). One
 * `submit(input)` runs model call → tool calls → results until the model
 * answers with text only or a limit stops it, with steering between rounds,
 * follow-ups after the input, loop detection, a typed event stream, and the
 * typed records of every step written to a turn store when persistence is on.
 *
 * @module
 */
import type { WritableRecord } from "@forge/turnstore/writer";
import type {
  LlmMessage,
  LlmRequest,
  LlmResponse,
  ReasoningEffort,
  ToolCall,
  ToolResult,
} from "../llm/types.ts";
import { responseReasoning, responseText, responseToolCalls } from "../llm/messages.ts";
import type { ToolRegistry } from "../tools/types.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import type { ProviderProfile } from "../profiles/types.ts";
import { type SessionFinalStateLabel, SessionLifecycle } from "../records.ts";
import { type EnvironmentContext, gatherEnvironmentContext } from "../prompt/environment.ts";
import { discoverProjectDocs, type ProjectDoc } from "../prompt/project_docs.ts";
import { type SessionConfig, SessionError, validateConfig } from "./config.ts";
import {
  EventHub,
  type SessionEvent,
  type SessionEventData,
  type StopReason,
  type WarningSource,
} from "./events.ts";
import { buildRequest, callModel } from "./model_call.ts";
import { executeToolCalls } from "./tool_execution.ts";
import { contextUsageWarning, limitReached, loopWarning } from "./limits.ts";
import { codeOf, recordSessionEnd } from "./lifecycle.ts";
import { type AgentRecordType, type SessionWriter, sessionWriter } from "./persistence.ts";
import { SubagentManager } from "./subagents.ts";
import { confinementFields, withholdUnavailableTools } from "./confinement.ts";
import { confinementOf } from "../env/confinement.ts";
import { endsWithQuestion } from "./questions.ts";
import {
  entryChars,
  type HistoryEntry,
  recordHistoryEntry,
  type RecordWrite,
  toMessages,
} from "./history.ts";

export type { HistoryEntry } from "./history.ts";
export { endsWithQuestion } from "./questions.ts";

/** Where a session is in its lifecycle (spec §2.3). */
export type SessionState = "idle" | "processing" | "awaiting_input" | "closed";

/** What {@link Session.submit} resolves with. */
export interface SubmitResult {
  /** Why the loop stopped for the last input processed (follow-ups included). */
  readonly stopReason: StopReason;
  /** The text of the last assistant response. */
  readonly text: string;
  /** Tool rounds run for the last input. */
  readonly rounds: number;
  /** Inputs processed: 1 plus the follow-ups that ran. */
  readonly inputs: number;
  /** The model's question, when it stopped to ask the user (stopReason "awaiting_input"). */
  readonly question?: string;
}

/** A coding agent session. Create it, subscribe to {@link events}, then {@link submit}. */
export class Session implements AsyncDisposable {
  /** The session id. */
  readonly id: string;
  /** Nesting depth: 0 for a top-level session, 1 for its subagents. */
  readonly depth: number;
  readonly #config: SessionConfig;
  readonly #profile: ProviderProfile;
  readonly #registry: ToolRegistry;
  readonly #hub = new EventHub();
  readonly #writer: SessionWriter;
  readonly #subagents: SubagentManager;
  readonly #history: HistoryEntry[] = [];
  /** The history as model messages, kept in step with it (not rebuilt per model call). */
  readonly #messages: LlmMessage[] = [];
  readonly #steering: string[] = [];
  readonly #followUps: string[] = [];
  readonly #signatures: string[] = [];
  readonly #abort = new AbortController();
  #state: SessionState = "idle";
  #question: string | undefined;
  #started?: Promise<void>;
  #closing?: Promise<void>;
  #environment?: EnvironmentContext;
  #projectDocs: ProjectDoc[] = [];
  #projectDocsTruncated = false;
  #reasoningEffort: ReasoningEffort | null;
  #modelCallCount = 0;
  #historyChars = 0;
  #lastLoopWarningAt = -Infinity;
  #lastText = "";
  #finalState?: SessionFinalStateLabel;

  /** Creates a session; throws SessionError("InvalidConfig") naming a bad setting. */
  constructor(config: SessionConfig) {
    validateConfig(config);
    this.#config = config;
    this.#profile = config.profile;
    this.id = config.sessionId ?? crypto.randomUUID();
    this.depth = config.origin?.depth ?? 0;
    this.#reasoningEffort = config.reasoningEffort ?? null;
    this.#writer = sessionWriter({
      store: config.store,
      mode: config.persistence ?? "off",
      sessionId: this.id,
      retry: config.retry,
      pipelineWindow: config.pipelineWindow,
      hold: config.writeBehindHold,
      onWarning: (message) => this.#warn(message, "persistence"),
    });
    this.#registry = new DefaultToolRegistry([], {
      outputLimits: config.toolOutputLimits,
      lineLimits: config.toolLineLimits,
      timeoutsMs: config.toolTimeoutsMs,
    });
    for (const name of this.#profile.toolRegistry.names()) {
      this.#registry.register(this.#profile.toolRegistry.get(name)!);
    }
    this.#subagents = new SubagentManager(this, {
      config,
      writer: this.#writer,
      emit: (data) => this.#emit(data),
      maxDepth: config.maxSubagentDepth ?? 1,
    });
    this.#subagents.setSessionFactory((child) => new Session(child));
    for (const tool of this.#subagents.tools()) this.#registry.register(tool);
    if (config.signal) {
      if (config.signal.aborted) this.#abort.abort(config.signal.reason);
      else {
        config.signal.addEventListener("abort", () => this.abort(config.signal!.reason), {
          once: true,
        });
      }
    }
  }

  /** The session's state. */
  get state(): SessionState {
    return this.#state;
  }

  /** The profile in use. */
  get profile(): ProviderProfile {
    return this.#profile;
  }

  /** The tools the model is offered (profile tools, custom tools, subagent tools). */
  get toolRegistry(): ToolRegistry {
    return this.#registry;
  }

  /** A copy of the conversation history. */
  get history(): readonly HistoryEntry[] {
    return [...this.#history];
  }

  /** Model calls made so far, over all inputs. */
  get modelCallCount(): number {
    return this.#modelCallCount;
  }

  /** The session's context in the store; undefined when persistence is off. */
  get contextId(): string | undefined {
    return this.#writer.contextId;
  }

  /** The last turn the session stored ("0" before the first, or with persistence off). */
  get headTurnId(): string {
    return this.#writer.headTurnId;
  }

  /** The text of the last assistant response. */
  get lastText(): string {
    return this.#lastText;
  }

  /** The reasoning effort sent with the next request. */
  get reasoningEffort(): ReasoningEffort | null {
    return this.#reasoningEffort;
  }

  /** Changes the reasoning effort; it applies from the next model call. */
  setReasoningEffort(effort: ReasoningEffort | null): void {
    if (effort !== null && !["low", "medium", "high"].includes(effort)) {
      throw new SessionError(
        "InvalidConfig",
        `reasoningEffort must be "low", "medium", "high" or null, got ${JSON.stringify(effort)}`,
      );
    }
    this.#reasoningEffort = effort;
  }

  /**
   * The event stream, from the moment of the call until the session closes.
   * Subscribe before {@link start} or {@link submit} to see `session_start`.
   */
  events(signal?: AbortSignal): AsyncIterableIterator<SessionEvent> {
    return this.#hub.subscribe(signal);
  }

  /**
   * Starts the session (idempotent; {@link submit} calls it): snapshots the
   * environment and project documents, opens the store context (a fork of the
   * parent's turn for a subagent) and records `session_started`.
   */
  start(): Promise<void> {
    this.#started ??= this.#doStart();
    return this.#started;
  }

  async #doStart(): Promise<void> {
    const signal = this.#abort.signal;
    const env = this.#config.env;
    // The confinement is known once the environment is up (initialize is idempotent).
    await env.initialize();
    const confinement = confinementOf(env);
    withholdUnavailableTools(this.#registry, confinement);
    // The store's context opens while the environment is gathered: neither needs the other,
    // and each waits on something else (the git snapshot on processes, the bundle and the
    // context on commits). A store failure still surfaces below, after the gathering.
    const opened = (async () => {
      await this.#writer.open({ forkFrom: this.#config.origin?.forkFromTurnId });
    })();
    opened.catch(() => {}); // awaited below, unless the gathering throws first
    this.#environment = await gatherEnvironmentContext(env, this.#profile.model, {
      knowledgeCutoff: this.#profile.knowledgeCutoff,
      signal,
    });
    const docs = await discoverProjectDocs(env, this.#profile.projectDocFiles, {
      root: this.#environment.git?.root,
      signal,
    });
    this.#projectDocs = docs.docs;
    this.#projectDocsTruncated = docs.truncated;
    try {
      await opened;
      await this.#writer.append(SessionLifecycle, {
        sessionId: this.id,
        kind: "started",
        at: Date.now(),
        profileId: this.#profile.id,
        model: this.#profile.model,
        workingDir: env.workingDirectory(),
        subagentDepth: this.depth,
        parentSessionId: this.#config.origin?.parentSessionId,
        ...confinementFields(confinement),
      }, "session_started");
    } catch (error) {
      this.#emit({ kind: "error", message: (error as Error).message, code: codeOf(error) });
      await this.#shutdown("failed", error);
      throw error;
    }
    this.#emit({
      kind: "session_start",
      profileId: this.#profile.id,
      model: this.#profile.model,
      depth: this.depth,
      contextId: this.contextId,
      confinement,
    });
  }

  /** Queues a message injected after the current tool round (or at the next submit when idle). */
  steer(message: string): void {
    this.#requireOpen();
    this.#steering.push(String(message));
  }

  /** Queues an input processed after the current one completes. */
  followUp(message: string): void {
    this.#requireOpen();
    this.#followUps.push(String(message));
  }

  /**
   * Runs the loop for `input`, then for each queued follow-up. Resolves when
   * the model stops, a limit is hit or the session is aborted; rejects with
   * the model's error or a PersistenceError (mode "required"), after which the
   * session is closed.
   */
  async submit(input: string): Promise<SubmitResult> {
    this.#requireOpen();
    if (this.#state === "processing") {
      throw new SessionError("Busy", `session ${this.id} is already processing an input`);
    }
    if (typeof input !== "string") {
      throw new SessionError("InvalidConfig", `submit takes a string, got ${typeof input}`);
    }
    // An input given while the model waits for an answer is that answer.
    let answers = this.#question;
    this.#question = undefined;
    this.#state = "processing";
    try {
      await this.start();
      let result = await this.#processInput(input, answers);
      let inputs = 1;
      // A queued follow-up goes on after the input, and answers a question asked.
      while (result.stopReason !== "aborted" && this.#followUps.length > 0) {
        answers = result.question;
        result = await this.#processInput(this.#followUps.shift()!, answers);
        inputs++;
      }
      if (result.stopReason === "aborted") {
        await this.#shutdown("aborted");
      } else {
        if (result.stopReason === "awaiting_input") {
          this.#state = "awaiting_input";
          this.#question = result.question;
          this.#emit({ kind: "awaiting_input", question: result.question! });
        } else {
          this.#state = "idle";
        }
        this.#emit({
          kind: "processing_end",
          stopReason: result.stopReason,
          rounds: result.rounds,
        });
      }
      return { ...result, inputs };
    } catch (error) {
      if ((this.#state as SessionState) !== "closed") {
        this.#emit({ kind: "error", message: (error as Error).message, code: codeOf(error) });
        await this.#shutdown(this.#abort.signal.aborted ? "aborted" : "failed", error);
      }
      throw error;
    }
  }

  /** Aborts the current input (model call and tools) and closes the session. */
  abort(reason?: unknown): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(reason ?? new DOMException("session aborted", "AbortError"));
    // A waiting session closes now; a processing one closes when its loop notices.
    if (this.#state === "idle" || this.#state === "awaiting_input") {
      void this.#shutdown("aborted").catch(() => {});
    }
  }

  /** Closes subagents, records `session_ended` and ends the event stream. */
  async close(): Promise<void> {
    if (this.#state === "processing") {
      this.abort();
      // The loop sees the abort and shuts down; wait for that.
      while (this.#state === "processing") await new Promise((r) => setTimeout(r, 1));
    }
    await this.#shutdown(this.#abort.signal.aborted ? "aborted" : "closed");
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The final state, once closed. */
  get finalState(): SessionFinalStateLabel | undefined {
    return this.#finalState;
  }

  /** Resolves when every record asked for so far has been written. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  // ---- the loop -----------------------------------------------------------

  async #processInput(
    input: string,
    answers?: string,
  ): Promise<SubmitResult & { inputs: 1 }> {
    const signal = this.#abort.signal;
    await this.#pushHistory({ kind: "user", content: input, at: Date.now() });
    this.#emit(
      answers === undefined
        ? { kind: "user_input", content: input }
        : { kind: "user_input", content: input, answers },
    );
    await this.#drainSteering();
    let rounds = 0;
    let stopReason: StopReason = "completed";
    let text = "";
    let contextWarned = false;
    const maxRounds = this.#config.maxToolRoundsPerInput ?? 0;
    const maxModelCalls = this.#config.maxModelCalls ?? 0;
    for (;;) {
      if (signal.aborted) {
        stopReason = "aborted";
        break;
      }
      const limit = limitReached(rounds, maxRounds, this.#modelCallCount, maxModelCalls);
      if (limit) {
        this.#emit({ kind: "model_call_limit", limit: limit.limit, value: limit.value });
        await this.#pushHistory({ kind: "system", content: limit.message, at: Date.now() });
        stopReason = limit.stopReason;
        break;
      }
      // A write that failed in mode "required" fails the input before the next step.
      this.#writer.throwIfFailed();
      let response: LlmResponse;
      try {
        response = await this.#callModel(this.#buildRequest(), signal);
      } catch (error) {
        if (signal.aborted) {
          stopReason = "aborted";
          break;
        }
        throw error;
      }
      this.#modelCallCount++;
      const toolCalls = responseToolCalls(response);
      text = responseText(response);
      this.#lastText = text;
      const reasoning = responseReasoning(response);
      await this.#pushHistory({
        kind: "assistant",
        text,
        toolCalls,
        reasoning,
        usage: response.usage,
        responseId: response.id,
        message: response.message,
        at: Date.now(),
      }, response);
      this.#emit({
        kind: "assistant_text_end",
        text,
        reasoning,
        toolCallCount: toolCalls.length,
      });
      if (!contextWarned) contextWarned = this.#checkContextUsage();
      if (toolCalls.length === 0) {
        if (this.#isQuestion(text)) stopReason = "awaiting_input";
        break;
      }
      rounds++;
      this.#writer.throwIfFailed();
      const results = await this.#executeToolCalls(toolCalls, signal);
      await this.#pushHistory({ kind: "tool_results", results, at: Date.now() });
      if (signal.aborted) {
        stopReason = "aborted";
        break;
      }
      await this.#drainSteering();
      await this.#detectLoop();
    }
    if (stopReason === "aborted") {
      await this.#pushHistory({
        kind: "system",
        content: "The input was aborted by the host.",
        at: Date.now(),
      }).catch(() => {});
    } else {
      // The input succeeds only once its records are stored (mode "required").
      await this.#writer.settle();
    }
    return stopReason === "awaiting_input"
      ? { stopReason, text, rounds, inputs: 1, question: text }
      : { stopReason, text, rounds, inputs: 1 };
  }

  #isQuestion(text: string): boolean {
    const detect = this.#config.detectQuestions ?? true;
    if (detect === false || text.trim() === "") return false;
    return detect === true ? endsWithQuestion(text) : detect(text);
  }

  /** The model's open question while the session is `awaiting_input`. */
  get pendingQuestion(): string | undefined {
    return this.#question;
  }

  #buildRequest(): LlmRequest {
    return buildRequest({
      profile: this.#profile,
      registry: this.#registry,
      environment: this.#environment!,
      projectDocs: this.#projectDocs,
      projectDocsTruncated: this.#projectDocsTruncated,
      userInstructions: this.#config.userInstructions,
      messages: this.#messages,
      reasoningEffort: this.#reasoningEffort,
    });
  }

  #callModel(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse> {
    return callModel(this.#config.provider, request, {
      streaming: this.#config.streaming ?? this.#profile.supportsStreaming,
      signal,
      emit: (data) => this.#emit(data),
    });
  }

  #executeToolCalls(calls: readonly ToolCall[], signal: AbortSignal): Promise<ToolResult[]> {
    return executeToolCalls(
      {
        registry: this.#registry,
        env: this.#config.env,
        parallel: this.#profile.supportsParallelToolCalls,
        defaultCommandTimeoutMs: this.#config.defaultCommandTimeoutMs ??
          this.#profile.defaultCommandTimeoutMs,
        maxCommandTimeoutMs: this.#config.maxCommandTimeoutMs,
        signatures: this.#signatures,
        emit: (data) => this.#emit(data),
        write: this.#writeRecord,
      },
      calls,
      signal,
    );
  }

  async #drainSteering(): Promise<void> {
    while (this.#steering.length > 0) {
      const content = this.#steering.shift()!;
      await this.#pushHistory({ kind: "steering", content, source: "host", at: Date.now() });
      this.#emit({ kind: "steering_injected", content });
    }
  }

  async #detectLoop(): Promise<void> {
    if (this.#config.enableLoopDetection === false) return;
    const window = this.#config.loopDetectionWindow ?? 10;
    const message = loopWarning(this.#signatures, window, this.#lastLoopWarningAt);
    if (message === undefined) return;
    this.#lastLoopWarningAt = this.#signatures.length;
    await this.#pushHistory({
      kind: "steering",
      content: message,
      source: "loop_detection",
      at: Date.now(),
    });
    this.#emit({ kind: "loop_detection", message });
  }

  #checkContextUsage(): boolean {
    const warning = contextUsageWarning(this.#historyChars, this.#profile.contextWindowSize);
    if (warning === undefined) return false;
    this.#warn(warning, "context_window");
    return true;
  }

  /** Adds an entry to the history and writes its record. */
  async #pushHistory(entry: HistoryEntry, response?: LlmResponse): Promise<void> {
    this.#history.push(entry);
    this.#messages.push(...toMessages(entry));
    this.#historyChars += entryChars(entry);
    await recordHistoryEntry(entry, response, this.#writeRecord);
  }

  /**
   * Writes one record: awaited when `awaitEachWrite` is set, otherwise queued
   * (write-behind) and settled at the end of the input.
   */
  #write<V>(type: AgentRecordType & WritableRecord<V>, event: string, value: V): Promise<unknown> {
    if (this.#config.awaitEachWrite) return this.#writer.append(type, value, event);
    this.#writer.enqueue(type, value, event);
    return Promise.resolve();
  }

  /** {@link #write}, bound once, for the history mapping. */
  readonly #writeRecord: RecordWrite = (type, event, value) => this.#write(type, event, value);

  // ---- shutdown -----------------------------------------------------------

  #shutdown(finalState: SessionFinalStateLabel, error?: unknown): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = "closed";
      this.#finalState = finalState;
      if (!this.#abort.signal.aborted) this.#abort.abort(new DOMException("closed", "AbortError"));
      await this.#subagents.closeAll().catch(() => {});
      if (this.#started) {
        await recordSessionEnd(this.#writer, this.id, finalState, error, (e) => this.#emit(e));
        await this.#writer.flush();
      }
      this.#emit({ kind: "session_end", finalState, contextId: this.contextId });
      this.#hub.close();
    })();
    return this.#closing;
  }

  #requireOpen(): void {
    if (this.#state === "closed" || this.#closing) {
      throw new SessionError("Closed", `session ${this.id} is closed`);
    }
  }

  #warn(message: string, source: WarningSource): void {
    this.#emit({ kind: "warning", message, source });
  }

  #emit(data: SessionEventData): void {
    this.#hub.emit({ ...data, timestamp: Date.now(), sessionId: this.id } as SessionEvent);
  }

  /** @internal The abort signal of the session, for its subagent manager. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}
