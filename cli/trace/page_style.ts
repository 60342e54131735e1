/**
 * The stylesheet of the trace page, inlined into it so the page needs no
 * network and no other file.
 *
 * @module
 */

/** CSS of the trace page and the `forge serve` index. */
export const PAGE_CSS = `
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#ffffff; --panel:#f9fafb; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--fg); background:var(--bg); }
header { padding:12px 20px; border-bottom:1px solid var(--line); display:flex; gap:24px; align-items:baseline; flex-wrap:wrap; }
header h1 { font-size:16px; margin:0; }
header .stats span { margin-right:14px; color:var(--muted); }
header .stats b { color:var(--fg); }
.live { color:#16a34a; font-weight:600; }
main { display:grid; grid-template-columns: minmax(0,1fr) 420px; min-height: calc(100vh - 50px); }
section { padding:12px 20px; border-bottom:1px solid var(--line); }
section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0 0 8px; }
#dag-wrap { overflow:auto; max-height:58vh; border:1px solid var(--line); border-radius:6px; background:#fff; }
#dag text { font-size:11px; fill:var(--fg); paint-order:stroke; stroke:#fff; stroke-width:3px; stroke-linejoin:round; }
#dag .lane-line { stroke:#cbd5e1; stroke-width:2; }
#dag .fork { fill:none; stroke:#94a3b8; stroke-width:1.5; }
#dag .link { fill:none; stroke:var(--accent); stroke-width:1.2; stroke-dasharray:4 3; opacity:.7; }
#dag circle.turn { stroke:#fff; stroke-width:1.5; cursor:pointer; }
#dag circle.turn:hover, #dag circle.turn.selected { stroke:#111827; stroke-width:2.5; }
#dag g.lane.dim { opacity:.25; }
#dag .lane-label { font-weight:600; }
#dag .lane-kind { fill:var(--muted); }
.legend { margin:6px 0 0; color:var(--muted); }
.legend i { display:inline-block; width:10px; height:10px; border-radius:50%; margin:0 4px 0 12px; vertical-align:-1px; }
#timeline { display:grid; grid-template-columns: 200px minmax(0,1fr) 70px 120px; gap:3px 10px; align-items:center; }
#timeline .row { display:contents; cursor:pointer; }
#timeline .row:hover .name, #timeline .row.selected .name { color:var(--accent); text-decoration:underline; }
#timeline .name { white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
#timeline .track { position:relative; height:14px; background:var(--panel); border-radius:3px; }
#timeline .bar { position:absolute; top:0; bottom:0; border-radius:3px; min-width:3px; }
#timeline .dur, #timeline .status { color:var(--muted); white-space:nowrap; }
.s-success, .s-completed { background:#22c55e; } .s-partial_success { background:#84cc16; }
.s-fail, .s-failed, .s-error { background:#ef4444; } .s-retry { background:#f59e0b; }
.s-running { background:#3b82f6; } .s-skipped { background:#9ca3af; }
aside { border-left:1px solid var(--line); background:var(--panel); padding:12px 16px; overflow:auto; max-height: calc(100vh - 50px); position:sticky; top:0; }
aside h3 { margin:0 0 4px; font-size:14px; }
aside .sub { color:var(--muted); margin-bottom:10px; }
table.fields { border-collapse:collapse; width:100%; }
table.fields td { border-top:1px solid var(--line); padding:4px 6px; vertical-align:top; }
table.fields td.k { white-space:nowrap; font-weight:600; }
table.fields td.k small { display:block; font-weight:400; color:var(--muted); }
table.fields td.v { word-break:break-word; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
pre { white-space:pre-wrap; word-break:break-word; margin:4px 0; font-size:12px; }
details > summary { cursor:pointer; color:var(--accent); }
ul.plain { list-style:none; padding:0; margin:0; }
ul.plain li { padding:3px 0; border-top:1px solid var(--line); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.muted { color:var(--muted); }
table.list { border-collapse:collapse; width:100%; }
table.list th, table.list td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
table.list th { color:var(--muted); font-weight:600; }
`;
