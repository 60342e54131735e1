/**
 * A trace as one self-contained HTML page: the data as a JSON block, the
 * stylesheet and the script inline, no network needed to open it. The DAG
 * is drawn as inline SVG laid out by the page itself: every context is a
 * linear chain of turns plus the one turn it forks from, so a lane per
 * context with turns placed by depth is an exact layout in one pass over
 * the turns, and needs no general graph-layout library (which would add
 * hundreds of kilobytes to every page and take seconds on thousands of
 * nodes).
 *
 * @module
 */
import type { Trace } from "./model.ts";
import { timeline, type TimelineRow } from "./timeline.ts";
import { PAGE_CSS } from "./page_style.ts";
import { PAGE_SCRIPT } from "./page_script.ts";

/** What the page shows: the trace, its timeline and, under `forge serve`, where to listen. */
export interface PageData {
  /** The page title. */
  readonly title: string;
  /** The trace. */
  readonly trace: Trace;
  /** Its timeline rows. */
  readonly timeline: TimelineRow[];
  /** Live updates: the SSE endpoint and the JSON to refetch on change. */
  readonly live?: { readonly events: string; readonly json: string };
}

/** The page data of a trace. */
export function pageData(trace: Trace, title: string, live?: PageData["live"]): PageData {
  return { title, trace, timeline: timeline(trace), live };
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** JSON that is safe inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

/** Renders the page. */
export function renderTraceHtml(data: PageData): string {
  const title = escapeHtml(data.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} — forge trace</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <div class="stats"><span><b id="stat-contexts">0</b> contexts</span><span><b id="stat-turns">0</b> turns</span><span><b id="stat-links">0</b> links</span><span class="muted">read ${
    escapeHtml(new Date(data.trace.readAt).toISOString())
  }</span><span id="live" class="live">${data.live ? "live" : ""}</span></div>
</header>
<main>
  <div>
    <section>
      <h2>Turn DAG</h2>
      <div id="dag-wrap"></div>
      <div class="legend" id="legend">lanes are contexts, dots are turns (click one); grey curves are forks, blue dashes are links</div>
    </section>
    <section>
      <h2 id="timeline-title">Timeline</h2>
      <div id="timeline"></div>
    </section>
  </div>
  <aside id="details"><p class="muted">Click a turn in the DAG or a row of the timeline.</p></aside>
</main>
<script type="application/json" id="trace-data">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
