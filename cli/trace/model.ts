/**
 * The trace of a context: the turn DAG reachable from it, read from the
 * store alone. Starting at one context (a run, a session, any context), it
 * reads that context's history, decodes each turn through the record
 * catalogs, and follows every field that names another context (a
 * subagent's `childContextId`, a stage's `agentContextId`, a branch's
 * `branchContextId`, a retry's `attemptContextId`, …), reading each linked
 * context back to the turn it forks from. The result is plain data the text,
 * DOT and HTML renderers share.
 *
 * @module
 */
import {
  type ForgeStore,
  type RecordCatalog,
  type RegistryBundle,
  type StoredTurn,
  toHex,
} from "@forge/turnstore";

/** What a context is, from the records it holds and the link that led to it. */
export type ContextKind =
  | "run"
  | "session"
  | "subagent"
  | "stage session"
  | "branch"
  | "attempt"
  | "context";

/** One stored turn, decoded. */
export interface TraceTurn {
  /** Turn id. */
  readonly turnId: string;
  /** Parent turn id ("0" for a first turn). */
  readonly parentTurnId: string;
  /** Depth in the DAG. */
  readonly depth: number;
  /** Record type id. */
  readonly typeId: string;
  /** Record type version. */
  readonly typeVersion: number;
  /** Payload size in bytes. */
  readonly bytes: number;
  /** When the record says it happened (its `at` field), ms since the epoch. */
  readonly at?: number;
  /** A one-line description. */
  readonly summary: string;
  /** The decoded fields by name, JSON-safe; absent for unknown types. */
  readonly fields?: Record<string, unknown>;
  /** Why the payload did not decode, when it did not. */
  readonly decodeError?: string;
}

/** One context of the trace, with the turns it added to the DAG. */
export interface TraceContext {
  /** Context id. */
  readonly contextId: string;
  /** Its head when read. */
  readonly headTurnId: string;
  /** Depth of the head. */
  readonly headDepth: number;
  /** What it is. */
  kind: ContextKind;
  /** A short label (run id, session id and model, branch id…). */
  label: string;
  /** The turn it forks from, when its history joins one already traced; "0" otherwise. */
  readonly forkTurnId: string;
  /** The context that turn belongs to. */
  readonly forkContextId?: string;
  /** Its own turns, oldest first. */
  readonly turns: TraceTurn[];
  /** True when the trace stopped reading it at the turn budget. */
  readonly truncated: boolean;
}

/** A field of one record that names another context. */
export interface TraceLink {
  /** The context of the record. */
  readonly fromContextId: string;
  /** The record's turn. */
  readonly fromTurnId: string;
  /** The field (e.g. `childContextId`). */
  readonly field: string;
  /** The context it names. */
  readonly toContextId: string;
}

/**
 * The field descriptors of one record type version, from the registry
 * bundles, keyed by the decoded field's name (camelCase) and carrying the
 * bundle's own name for it (snake_case, as CXDB shows it).
 */
export type FieldDescriptors = Record<
  string,
  { tag: number; name: string; type: string; doc?: string }
>;

/** The trace. */
export interface Trace {
  /** The context the trace started at. */
  readonly rootContextId: string;
  /** Contexts in the order they were reached (the root first). */
  readonly contexts: TraceContext[];
  /** Cross-context links. */
  readonly links: TraceLink[];
  /** Field descriptors by `typeId@version`, for the record types the trace holds. */
  readonly types: Record<string, FieldDescriptors>;
  /** When the trace was read. */
  readonly readAt: number;
}

/** Options of {@link readTrace}. */
export interface ReadTraceOptions {
  /** Catalogs to decode payloads with. */
  readonly catalogs: readonly RecordCatalog[];
  /** Bundles that name the fields. */
  readonly bundles: readonly RegistryBundle[];
  /** Stop reading after this many turns in total; default 200,000. */
  readonly turnBudget?: number;
  /** Stop following links after this many contexts; default 5,000. */
  readonly maxContexts?: number;
  /**
   * Turns a decoded record into what a reader should see (e.g. a compressed
   * field inflated); returns undefined to show it as stored.
   */
  readonly present?: RecordPresenter;
  /**
   * The contexts of the root run's later attempts (each `loop_restart` starts
   * one), oldest first. Nothing in the store links an attempt to the next, so
   * the trace links each from the previous attempt's newest turn (the record
   * that ended it with the restart), as field `nextAttemptContextId`.
   */
  readonly laterAttempts?: readonly string[];
}

/** See {@link ReadTraceOptions.present}. */
export type RecordPresenter = (
  typeId: string,
  typeVersion: number,
  value: Record<string, unknown>,
) => Record<string, unknown> | undefined;

const PAGE = 1000;

/** Reads the trace rooted at `rootContextId`. NotFound when the context is unknown. */
export async function readTrace(
  store: ForgeStore,
  rootContextId: string,
  options: ReadTraceOptions,
): Promise<Trace> {
  const turnBudget = options.turnBudget ?? 200_000;
  const maxContexts = options.maxContexts ?? 5_000;
  const owner = new Map<string, string>(); // turn id → the traced context that added it
  const contexts: TraceContext[] = [];
  const links: TraceLink[] = [];
  // How each queued context was reached: the field and record that named it.
  const reached = new Map<string, Via | undefined>([[rootContextId, undefined]]);
  const queue = [rootContextId];
  // The root and its run's later attempts, each linked from the one before it.
  const attempts = [rootContextId, ...(options.laterAttempts ?? [])];
  let budget = turnBudget;
  while (queue.length > 0 && contexts.length < maxContexts) {
    const contextId = queue.shift()!;
    const head = await store.getHead(contextId);
    const own: StoredTurn[] = [];
    let forkTurnId = "0";
    let truncated = false;
    let cursor: string | undefined;
    reading: for (;;) {
      const page = await store.listTurns(contextId, { limit: PAGE, beforeTurnId: cursor });
      for (let i = page.length - 1; i >= 0; i--) {
        if (owner.has(page[i].turnId)) {
          forkTurnId = page[i].turnId;
          break reading;
        }
        if (budget-- <= 0) {
          truncated = true;
          break reading;
        }
        own.push(page[i]);
      }
      if (page.length < PAGE) break;
      cursor = page[0].turnId;
    }
    own.reverse();
    const turns = own.map((t) => decodeTurn(t, options.catalogs, options.present));
    for (const t of own) owner.set(t.turnId, contextId);
    const ctx: TraceContext = {
      contextId,
      headTurnId: head.headTurnId,
      headDepth: head.headDepth,
      kind: "context",
      label: "",
      forkTurnId,
      forkContextId: forkTurnId === "0" ? undefined : owner.get(forkTurnId),
      turns,
      truncated,
    };
    classify(ctx, reached.get(contextId));
    contexts.push(ctx);
    const at = attempts.indexOf(contextId);
    const next = at < 0 ? undefined : attempts[at + 1];
    const last = turns.at(-1);
    if (next !== undefined && last && !reached.has(next)) {
      const field = "nextAttemptContextId";
      links.push({ fromContextId: contextId, fromTurnId: last.turnId, field, toContextId: next });
      reached.set(next, { field, fields: last.fields ?? {} });
      queue.push(next);
    }
    for (const turn of turns) {
      for (const [field, value] of Object.entries(turn.fields ?? {})) {
        if (!field.endsWith("ContextId") || typeof value !== "string") continue;
        if (!/^[1-9][0-9]*$/.test(value) || value === contextId) continue;
        links.push({
          fromContextId: contextId,
          fromTurnId: turn.turnId,
          field,
          toContextId: value,
        });
        if (!reached.has(value)) {
          reached.set(value, { field, fields: turn.fields! });
          queue.push(value);
        }
      }
    }
  }
  const types: Record<string, FieldDescriptors> = {};
  for (const ctx of contexts) {
    for (const t of ctx.turns) {
      const key = `${t.typeId}@${t.typeVersion}`;
      if (!(key in types)) {
        const d = descriptors(options.bundles, t.typeId, t.typeVersion);
        if (d) types[key] = d;
      }
    }
  }
  const known = new Set(contexts.map((c) => c.contextId));
  return {
    rootContextId,
    contexts,
    links: links.filter((l) => known.has(l.toContextId)),
    types,
    readAt: Date.now(),
  };
}

/** The field descriptors of a type version in the first bundle that has it. */
export function descriptors(
  bundles: readonly RegistryBundle[],
  typeId: string,
  version: number,
): FieldDescriptors | undefined {
  for (const bundle of bundles) {
    const fields = bundle.types[typeId]?.versions[String(version)]?.fields;
    if (!fields) continue;
    const out: FieldDescriptors = {};
    for (const [tag, f] of Object.entries(fields)) {
      const key = f.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
      out[key] = { tag: Number(tag), name: f.name, type: f.semantic ?? f.type, doc: f.doc };
    }
    return out;
  }
  return undefined;
}

/** Makes a decoded value JSON-safe: bytes as hex, bigints as strings. */
export function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `0x${toHex(value)}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function decodeTurn(
  turn: StoredTurn,
  catalogs: readonly RecordCatalog[],
  present?: RecordPresenter,
): TraceTurn {
  const base = {
    turnId: turn.turnId,
    parentTurnId: turn.parentTurnId,
    depth: turn.depth,
    typeId: turn.typeId,
    typeVersion: turn.typeVersion,
    bytes: turn.payload.length,
  };
  for (const catalog of catalogs) {
    try {
      const decoded = catalog.decode(turn);
      if (!decoded) continue;
      const value = present?.(turn.typeId, turn.typeVersion, decoded.value) ?? decoded.value;
      const fields = plain(value) as Record<string, unknown>;
      const at = typeof fields.at === "number" ? fields.at : undefined;
      return { ...base, at, fields, summary: summarize(turn.typeId, fields) };
    } catch (error) {
      return { ...base, summary: shortType(turn.typeId), decodeError: (error as Error).message };
    }
  }
  return { ...base, summary: `${shortType(turn.typeId)} (${turn.payload.length} bytes)` };
}

function shortType(typeId: string): string {
  return typeId.replace(/^forge\.(agent|attractor|link)\./, "");
}

function clip(text: unknown, max = 60): string {
  const one = String(text ?? "").replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** A one-line description of a decoded record. */
export function summarize(typeId: string, f: Record<string, unknown>): string {
  const type = shortType(typeId);
  switch (type) {
    case "user_turn":
    case "system_turn":
    case "steering_turn":
      return `${type.replace("_turn", "")}: ${clip(f.content)}`;
    case "assistant_turn": {
      const calls = (f.toolCalls as { name: string }[] | undefined) ?? [];
      const names = calls.map((c) => c.name).join(", ");
      return `assistant: ${clip(f.text || (names ? `→ ${names}` : ""))}`;
    }
    case "tool_results_turn":
      return `tool results (${(f.results as unknown[] | undefined)?.length ?? 0})`;
    case "tool_call_lifecycle":
      return `tool ${f.toolName} ${f.kind}${f.isError ? " (error)" : ""}`;
    case "session_lifecycle":
      return `session ${f.kind}${f.finalState ? ` (${f.finalState})` : ""}`;
    case "subagent_spawn":
      return `spawn ${f.subagentId}: ${clip(f.task, 40)}`;
    case "subagent_close":
      return `close ${f.subagentId} (${f.status})`;
    case "run_lifecycle":
      return `run ${f.kind}${f.status ? ` (${f.status})` : ""}`;
    case "stage_lifecycle":
      return `stage ${f.nodeId} #${f.attempt} ${f.kind}${f.status ? ` (${f.status})` : ""}`;
    case "parallel_lifecycle":
      return `parallel ${f.nodeId} ${f.kind}${f.branchId ? ` ${f.branchId}` : ""}`;
    case "interview_lifecycle":
      return `interview ${f.nodeId} ${f.kind}${f.selected ? `: ${f.selected}` : ""}`;
    case "checkpoint_saved":
      return `checkpoint ${f.checkpointId} after ${f.nodeId}`;
    case "route_decision":
      return `route ${f.nodeId} → ${f.targetNode ?? f.terminatedReason ?? "end"}`;
    case "stage_to_agent":
      return `stage ${f.nodeId} ↔ session ${f.agentSessionId}`;
    default:
      return type;
  }
}

interface Via {
  readonly field: string;
  readonly fields: Record<string, unknown>;
}

function classify(ctx: TraceContext, link: Via | undefined): void {
  const via = link?.field;
  for (const t of ctx.turns) {
    const f = t.fields;
    if (!f) continue;
    if (t.typeId === "forge.attractor.run_lifecycle") {
      ctx.kind = "run";
      const attempt = Number(f.lineageAttempt ?? 1) > 1 ? ` attempt ${f.lineageAttempt}` : "";
      ctx.label = `run ${f.runId}${f.graphId ? ` (${f.graphId})` : ""}${attempt}`;
      return;
    }
    if (t.typeId === "forge.agent.session_lifecycle" && f.kind === "started") {
      ctx.kind = via === "agentContextId"
        ? "stage session"
        : f.parentSessionId !== undefined
        ? "subagent"
        : "session";
      ctx.label = `session ${f.sessionId}${f.model ? ` (${f.model})` : ""}`;
      return;
    }
  }
  if (via === "branchContextId") ctx.kind = "branch";
  else if (via === "attemptContextId") ctx.kind = "attempt";
  ctx.label = ctx.kind === "branch" && link?.fields.branchId !== undefined
    ? `branch ${link.fields.branchId}${
      link.fields.targetNode ? ` → ${link.fields.targetNode}` : ""
    }`
    : ctx.kind === "attempt"
    ? `${link?.fields.nodeId ?? "stage"} attempt ${link?.fields.nextAttempt ?? ""}`.trim()
    : `context ${ctx.contextId}`;
}
