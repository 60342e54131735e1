/**
 * `forge serve`: the trace pages over HTTP on 127.0.0.1, with an index of
 * the store's runs, sessions and newest contexts. Pages update live: the
 * server watches the store (its newest contexts and their heads, polled
 * every half second, since the store contract has no change feed) and tells
 * open pages over server-sent events when something moved; a page then
 * refetches its data and redraws.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ForgeStore } from "@forge/turnstore";
import { contextArg, intFlag, when } from "./args.ts";
import type { ViewCommand, ViewContext } from "./commands.ts";
import { listSessions } from "./sessions.ts";
import { readTrace } from "../trace/model.ts";
import { presentProjectRecord } from "../catalogs.ts";
import { escapeHtml, type PageData, pageData, renderTraceHtml } from "../trace/html.ts";
import { PAGE_CSS } from "../trace/page_style.ts";
import { formatDuration } from "../trace/text.ts";

/** Default port of `forge serve`. */
export const DEFAULT_PORT = 7474;
const POLL_MS = 500;

/** A run row for the index, from the runner's query API when it is there. */
export interface IndexRun {
  /** Run id. */
  readonly runId: string;
  /** Its context. */
  readonly contextId: string;
  /** Pipeline name. */
  readonly pipeline: string;
  /** running, waiting, succeeded, failed. */
  readonly status: string;
  /** Start time. */
  readonly startedAt?: number;
}

/** Lists runs for the index; the runner's query API provides one. */
export type RunLister = (store: ForgeStore) => Promise<IndexRun[]>;

/** What the store looks like now, compactly: changes when a context appears or a head moves. */
async function signature(store: ForgeStore, contextId?: string): Promise<string> {
  const newest = await store.listContexts({ limit: 50 });
  const parts = newest.map((c) => `${c.contextId}:${c.headTurnId}`);
  if (contextId) parts.push(`=${(await store.getHead(contextId)).headTurnId}`);
  return parts.join(",");
}

async function tracePage(ctx: ViewContext, contextId: string, live: boolean): Promise<PageData> {
  const trace = await readTrace(ctx.store, contextId, {
    catalogs: ctx.catalogs,
    bundles: ctx.bundles,
    present: presentProjectRecord,
  });
  return pageData(
    trace,
    trace.contexts[0]?.label || `context ${contextId}`,
    live ? { events: `/events?context=${contextId}`, json: `/api/trace/${contextId}` } : undefined,
  );
}

async function indexFragment(ctx: ViewContext, runs?: RunLister): Promise<string> {
  const out: string[] = [];
  if (runs) {
    const list = await runs(ctx.store);
    out.push(`<section><h2>Runs (${list.length})</h2>`);
    out.push(
      list.length === 0
        ? '<p class="muted">no runs</p>'
        : `<table class="list" id="runs"><tr><th>run</th><th>pipeline</th><th>status</th><th>started</th><th>context</th></tr>${
          list.map((r) =>
            `<tr><td><a href="/trace/${r.contextId}">${escapeHtml(r.runId)}</a></td><td>${
              escapeHtml(r.pipeline)
            }</td><td>${escapeHtml(r.status)}</td><td>${
              when(r.startedAt)
            }</td><td>${r.contextId}</td></tr>`
          ).join("")
        }</table>`,
    );
    out.push("</section>");
  }
  const { sessions } = await listSessions(ctx.store, { limit: 50 });
  out.push(`<section><h2>Agent sessions (${sessions.length})</h2>`);
  out.push(
    sessions.length === 0
      ? '<p class="muted">no agent sessions</p>'
      : `<table class="list" id="sessions"><tr><th>session</th><th>state</th><th>started</th><th>duration</th><th>turns</th><th>subagents</th><th>tokens</th></tr>${
        sessions.map((s) =>
          `<tr><td><a href="/trace/${s.contextId}">${escapeHtml(s.sessionId)}</a></td><td>${
            escapeHtml(s.state)
          }</td><td>${when(s.startedAt)}</td><td>${
            s.endedAt && s.startedAt ? formatDuration(s.endedAt - s.startedAt) : "—"
          }</td><td>${s.turns}</td><td>${s.subagents}</td><td>${s.tokens}</td></tr>`
        ).join("")
      }</table>`,
  );
  out.push("</section>");
  const contexts = await ctx.store.listContexts({ limit: 30 });
  out.push(`<section><h2>Newest contexts</h2><table class="list" id="contexts">
<tr><th>context</th><th>head</th><th>depth</th><th>created</th></tr>${
    contexts.map((c) =>
      `<tr><td><a href="/trace/${c.contextId}">${c.contextId}</a></td><td>${c.headTurnId}</td><td>${c.headDepth}</td><td>${
        when(c.createdAt)
      }</td></tr>`
    ).join("")
  }</table></section>`);
  return out.join("\n");
}

function indexPage(storeUrl: string, fragment: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>forge — ${
    escapeHtml(storeUrl)
  }</title><style>${PAGE_CSS}</style></head><body>
<header><h1>forge</h1><div class="stats"><span>${
    escapeHtml(storeUrl)
  }</span><span id="live" class="live">live</span></div></header>
<div id="index">${fragment}</div>
<script>
(function () {
  var source = new EventSource("/events");
  source.addEventListener("change", function () {
    fetch("/fragment/index").then(function (r) { return r.text(); }).then(function (html) {
      document.getElementById("index").innerHTML = html;
      document.getElementById("live").textContent = "live · updated " + new Date().toLocaleTimeString();
    });
  });
  source.onerror = function () { document.getElementById("live").textContent = "reconnecting…"; };
})();
</script></body></html>`;
}

/** Streams "change" events whenever the store's signature changes, until the client leaves or `stop`. */
function events(ctx: ViewContext, contextId: string | undefined, stop: AbortSignal): Response {
  const enc = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gone = false; // the page left: the stream was cancelled
  // The server-wide stop signal outlives every stream: its listener goes when the stream ends.
  let onStop: (() => void) | undefined;
  const unwatch = () => {
    if (onStop) stop.removeEventListener("abort", onStop);
    onStop = undefined;
  };
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const end = () => {
        unwatch();
        clearTimeout(timer);
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      let last = await signature(ctx.store, contextId).catch(() => "");
      if (gone) return; // the page left meanwhile
      controller.enqueue(enc.encode(`retry: 1000\nevent: ready\ndata: {}\n\n`));
      let beats = 0;
      const tick = async () => {
        if (stop.aborted || gone) return;
        try {
          const now = await signature(ctx.store, contextId);
          if (now !== last) {
            last = now;
            controller.enqueue(
              enc.encode(`event: change\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`),
            );
          } else if (++beats % 30 === 0) {
            controller.enqueue(enc.encode(`: keep-alive\n\n`));
          }
          timer = setTimeout(tick, POLL_MS);
        } catch {
          end();
        }
      };
      if (stop.aborted || gone) return end();
      timer = setTimeout(tick, POLL_MS);
      onStop = end;
      stop.addEventListener("abort", onStop, { once: true });
    },
    cancel() {
      gone = true;
      unwatch();
      clearTimeout(timer);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    },
  });
}

/** The Host headers `forge serve` answers: 127.0.0.1, localhost and [::1], any port. */
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/** The request handler of `forge serve`, exposed for tests; `stopped` ends its event streams. */
export function serveHandler(
  ctx: ViewContext,
  runs?: RunLister,
  stopped?: AbortSignal,
): (req: Request) => Promise<Response> {
  const html = (text: string, status = 200) =>
    new Response(text, { status, headers: { "content-type": "text/html; charset=utf-8" } });
  const json = (value: unknown) =>
    new Response(JSON.stringify(value), { headers: { "content-type": "application/json" } });
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    // DNS rebinding: a page from another site that resolves its own name to
    // 127.0.0.1 reaches this server with its name in Host. Only loopback names are served.
    const host = req.headers.get("host");
    if (host !== null && !LOOPBACK_HOST.test(host)) {
      return new Response(`forbidden: host ${host} is not a loopback address`, { status: 403 });
    }
    try {
      if (req.method !== "GET") return new Response("method not allowed", { status: 405 });
      if (path === "/") return html(indexPage(ctx.storeUrl, await indexFragment(ctx, runs)));
      if (path === "/fragment/index") return html(await indexFragment(ctx, runs));
      if (path === "/api/sessions") return json(await listSessions(ctx.store, { limit: 100 }));
      if (path === "/api/contexts") return json(await ctx.store.listContexts({ limit: 100 }));
      const trace = /^\/(trace|api\/trace)\/([^/]+)$/.exec(path);
      if (trace) {
        const id = contextArg("context", trace[2]);
        const data = await tracePage(ctx, id, true);
        return trace[1] === "trace" ? html(renderTraceHtml(data)) : json(data);
      }
      if (path === "/events") {
        const c = url.searchParams.get("context") ?? undefined;
        // An event stream ends when the server stops, or when its page leaves (the
        // stream is cancelled; request.signal is not watched: Deno aborts it
        // after every successful response and warns about whoever listens).
        return events(
          ctx,
          c === undefined ? undefined : contextArg("context", c),
          stopped ?? new AbortController().signal,
        );
      }
      return html(`<p>not found: ${escapeHtml(path)}</p>`, 404);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const status = code === "NotFound"
        ? 404
        : code === "Usage" || code === "InvalidInput"
        ? 400
        : 500;
      return html(
        `<p>${escapeHtml(`${code ?? "Error"}: ${(error as Error).message}`)}</p>`,
        status,
      );
    }
  };
}

/** The port `forge serve` was asked for is taken. */
export class PortInUseError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "PortInUse" as const;
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PortInUseError";
  }
}

/**
 * Builds `forge serve` with an optional run lister (the runner's query API).
 * It serves until `ctx.signal` aborts or the process gets SIGINT or SIGTERM
 * (Ctrl-C): then it stops listening, ends the open event streams, and returns
 * 0, so the CLI closes the store like any other command.
 */
export function makeServeCommand(runs?: RunLister): ViewCommand {
  return async (args, ctx) => {
    const { values } = parseArgs({ args, options: { port: { type: "string" } } });
    const port = intFlag("port", values.port, DEFAULT_PORT, 0, 65535);
    const stop = new AbortController();
    ctx.signal?.addEventListener("abort", () => stop.abort());
    const onSignal = (signal: Deno.Signal) => () => {
      if (!stop.signal.aborted) ctx.err(`forge serve: ${signal} received; stopped`);
      stop.abort();
    };
    const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
    try {
      let server;
      try {
        server = Deno.serve({
          hostname: "127.0.0.1",
          port,
          signal: stop.signal,
          onListen: ({ port }) =>
            ctx.out(`forge serve: http://127.0.0.1:${port}/ (${ctx.storeUrl})`),
        }, serveHandler(ctx, runs, stop.signal));
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          throw new PortInUseError(
            `port ${port} on 127.0.0.1 is in use (another forge serve?); ` +
              "pick another with --port N, or --port 0 for any free one",
          );
        }
        throw error;
      }
      await server.finished;
    } finally {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    }
    return 0;
  };
}

/** `forge serve` without runs (see {@link makeServeCommand}). */
export const serveCommand: ViewCommand = makeServeCommand();
