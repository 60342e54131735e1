/**
 * The script of the trace page, inlined into it. It reads the trace from
 * the page's JSON data block and draws: the turn DAG as lanes (one per
 * context, turns placed by depth, so a fork starts where its base turn sits
 * and every edge is a straight segment or one curve), the timeline bars, and
 * a details panel with each record's fields named from the registry bundles.
 * With `live` set (under `forge serve`) it listens to server-sent events and
 * redraws when the store changes.
 *
 * Plain ES2020 without template literals, so it can live in a TS string.
 *
 * @module
 */

/** JavaScript of the trace page. */
export const PAGE_SCRIPT = String.raw`
"use strict";
(function () {
  var DX = 16, DY = 40, PADX = 24, PADY = 34;
  var COLORS = {
    "forge.agent.user_turn": "#2563eb", "forge.agent.assistant_turn": "#7c3aed",
    "forge.agent.tool_results_turn": "#0891b2", "forge.agent.tool_call_lifecycle": "#0d9488",
    "forge.agent.session_lifecycle": "#64748b", "forge.agent.system_turn": "#475569",
    "forge.link.subagent_spawn": "#ca8a04", "forge.link.subagent_close": "#ca8a04",
    "forge.attractor.stage_lifecycle": "#16a34a", "forge.attractor.route_decision": "#ea580c",
    "forge.attractor.checkpoint_saved": "#9333ea", "forge.attractor.run_lifecycle": "#1d4ed8",
    "forge.attractor.interview_lifecycle": "#db2777", "forge.attractor.parallel_lifecycle": "#c026d3",
    "forge.link.stage_to_agent": "#ca8a04"
  };
  var LEGEND = [["agent", "#7c3aed"], ["tools", "#0d9488"], ["stages", "#16a34a"],
    ["routes", "#ea580c"], ["checkpoints", "#9333ea"], ["links", "#ca8a04"], ["other", "#94a3b8"]];
  var state = { data: null, turns: {}, selected: null };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function dur(ms) {
    if (ms === undefined || ms === null || !isFinite(ms)) return "—";
    if (ms < 1000) return Math.round(ms) + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + "s";
    return Math.floor(ms / 60000) + "m" + Math.round((ms % 60000) / 1000) + "s";
  }

  function treeOrder(trace) {
    var parent = {}, kids = {};
    trace.links.forEach(function (l) {
      if (l.toContextId === trace.rootContextId || parent[l.toContextId]) return;
      parent[l.toContextId] = l.fromContextId;
      (kids[l.fromContextId] = kids[l.fromContextId] || []).push(l.toContextId);
    });
    var byId = {}, out = [], seen = {};
    trace.contexts.forEach(function (c) { byId[c.contextId] = c; });
    (function walk(id) {
      if (seen[id] || !byId[id]) return;
      seen[id] = true; out.push(byId[id]);
      (kids[id] || []).forEach(walk);
    })(trace.rootContextId);
    trace.contexts.forEach(function (c) { if (!seen[c.contextId]) out.push(c); });
    return out;
  }

  function drawDag(trace) {
    var lanes = treeOrder(trace);
    var pos = {}, minD = Infinity, maxD = 0;
    lanes.forEach(function (c) {
      c.turns.forEach(function (t) { minD = Math.min(minD, t.depth); maxD = Math.max(maxD, t.depth); });
    });
    if (minD === Infinity) { minD = 0; maxD = 0; }
    // Small traces spread out to the panel's width; big ones keep 10px per turn and scroll.
    var room = Math.max(600, document.getElementById("dag-wrap").clientWidth - 2 * PADX - 40);
    DX = Math.max(10, Math.min(30, room / Math.max(1, maxD - minD)));
    var x = function (d) { return PADX + (d - minD) * DX; };
    var parts = [], edges = [];
    var width = x(maxD) + 40, height = PADY + lanes.length * DY;
    lanes.forEach(function (c) {
      var start = c.turns.length ? x(c.turns[0].depth) : PADX;
      width = Math.max(width, start + (c.label.length + 44) * 7);
    });
    lanes.forEach(function (c, i) {
      var y = PADY + i * DY;
      c.turns.forEach(function (t) { pos[t.turnId] = { x: x(t.depth), y: y, lane: c.contextId }; });
    });
    lanes.forEach(function (c, i) {
      var y = PADY + i * DY, g = [];
      var x0 = c.turns.length ? x(c.turns[0].depth) : (pos[c.forkTurnId] ? pos[c.forkTurnId].x + DX : PADX);
      var x1 = c.turns.length ? x(c.turns[c.turns.length - 1].depth) : x0;
      g.push('<g class="lane" data-context="' + esc(c.contextId) + '">');
      g.push('<text class="lane-label" x="' + x0 + '" y="' + (y - 11) + '">' + esc(c.label) +
        ' <tspan class="lane-kind">' + esc(c.kind) + " · ctx " + esc(c.contextId) + " · " +
        c.turns.length + " turns" + (c.truncated ? " (truncated)" : "") + "</tspan></text>");
      g.push('<line class="lane-line" x1="' + x0 + '" y1="' + y + '" x2="' + x1 + '" y2="' + y + '"/>');
      var base = pos[c.forkTurnId];
      if (base) {
        edges.push('<path class="fork" d="M' + base.x + "," + base.y + " C" + (base.x + DX) + "," + base.y +
          " " + (x0 - DX) + "," + y + " " + x0 + "," + y + '"/>');
      }
      c.turns.forEach(function (t) {
        var color = COLORS[t.typeId] || "#94a3b8";
        g.push('<circle class="turn" r="5" cx="' + x(t.depth) + '" cy="' + y + '" fill="' + color +
          '" data-turn="' + esc(t.turnId) + '"><title>' + esc(t.turnId + " · " + t.summary) + "</title></circle>");
      });
      g.push("</g>");
      parts.push(g.join(""));
    });
    trace.links.forEach(function (l) {
      var from = pos[l.fromTurnId], target = null;
      trace.contexts.forEach(function (c) { if (c.contextId === l.toContextId && c.turns.length) target = pos[c.turns[0].turnId]; });
      if (!from || !target) return;
      edges.push('<path class="link" d="M' + from.x + "," + from.y + " C" + from.x + "," + (from.y + DY / 2) +
        " " + target.x + "," + (target.y - DY / 2) + " " + target.x + "," + target.y + '"><title>' +
        esc(l.field) + "</title></path>");
    });
    var svg = '<svg id="dag" xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + height +
      '" data-lanes="' + lanes.length + '">' + edges.join("") + parts.join("") + "</svg>";
    document.getElementById("dag-wrap").innerHTML = svg;
  }

  function drawTimeline(rows) {
    var box = document.getElementById("timeline");
    box.innerHTML = "";
    document.getElementById("timeline-title").textContent = rows.length && rows[0].kind === "tool"
      ? "Tool calls (" + rows.length + ")" : "Stages (" + rows.length + ")";
    if (!rows.length) { box.appendChild(el("div", { "class": "muted" }, "nothing timed in this trace")); return; }
    var t0 = Infinity, t1 = 0, now = Date.now();
    rows.forEach(function (r) { t0 = Math.min(t0, r.startedAt); t1 = Math.max(t1, r.endedAt || now); });
    var span = Math.max(1, t1 - t0), html = [];
    rows.forEach(function (r, i) {
      var left = (r.startedAt - t0) / span * 100, w = ((r.endedAt || now) - r.startedAt) / span * 100;
      html.push('<div class="row" data-row="' + i + '"><span class="name" title="' + esc(r.name) + '">' +
        esc(r.name + (r.kind === "stage" ? " #" + r.attempt : "")) + '</span><div class="track"><div class="bar s-' +
        esc(r.status) + '" style="left:' + left.toFixed(3) + "%;width:" + Math.max(w, 0.2).toFixed(3) +
        '%"></div></div><span class="dur">' + (r.endedAt ? dur(r.endedAt - r.startedAt) : "running") +
        '</span><span class="status">' + esc(r.status) + "</span></div>");
    });
    box.innerHTML = html.join("");
  }

  function valueCell(v, type) {
    if (v === undefined || v === null) return '<span class="muted">—</span>';
    if (typeof v === "number" && (type === "unix_ms" || type === "time_ms")) {
      return esc(new Date(v).toISOString()) + ' <span class="muted">(' + v + ")</span>";
    }
    if (typeof v === "number" && type === "duration_ms") return esc(dur(v));
    if (typeof v === "object") {
      var n = Array.isArray(v) ? v.length + " items" : Object.keys(v).length + " fields";
      return "<details><summary>" + n + "</summary><pre>" + esc(JSON.stringify(v, null, 2)) + "</pre></details>";
    }
    var s = String(v);
    if (type === "json") {
      try { s = JSON.stringify(JSON.parse(s), null, 2); } catch (e) { /* shown as stored */ }
    }
    if (s.length > 160 || s.indexOf("\n") >= 0) {
      return "<details><summary>" + esc(s.slice(0, 80).replace(/\s+/g, " ")) + "…</summary><pre>" + esc(s) + "</pre></details>";
    }
    return esc(s);
  }

  function fieldsTable(t) {
    var desc = state.data.trace.types[t.typeId + "@" + t.typeVersion] || {};
    var rows = [];
    var names = Object.keys(t.fields || {});
    names.sort(function (a, b) { return ((desc[a] || {}).tag || 999) - ((desc[b] || {}).tag || 999); });
    names.forEach(function (name) {
      var d = desc[name];
      rows.push('<tr class="field"><td class="k"' + (d && d.doc ? ' title="' + esc(d.doc) + '"' : "") + ">" +
        esc(d ? d.name : name) + "<small>" +
        (d ? "tag " + d.tag + " · " + esc(d.type) : "not in bundle") + '</small></td><td class="v">' +
        valueCell(t.fields[name], d && d.type) + "</td></tr>");
    });
    return '<table class="fields">' + rows.join("") + "</table>";
  }

  function showTurn(turnId) {
    var t = state.turns[turnId];
    if (!t) return;
    select('circle.turn[data-turn="' + turnId + '"]');
    var d = document.getElementById("details");
    d.innerHTML = "<h3>" + esc(t.summary) + '</h3><div class="sub">turn ' + esc(t.turnId) + " ← " +
      esc(t.parentTurnId) + " · depth " + t.depth + " · " + esc(t.typeId) + " v" + t.typeVersion + " · " +
      t.bytes + " bytes · context " + esc(t.contextId) + "</div>" +
      (t.fields ? fieldsTable(t) : '<p class="muted">' + esc(t.decodeError || "no catalog knows this type") + "</p>");
  }

  function showRow(i) {
    var r = state.data.timeline[i];
    if (!r) return;
    select('#timeline .row[data-row="' + i + '"]');
    var related = [];
    state.data.trace.contexts.forEach(function (c) {
      c.turns.forEach(function (t) {
        var f = t.fields || {};
        // The attempt's own records; route decisions and interviews name the node only.
        if (r.kind === "stage" && f.nodeId === r.name &&
            (f.stageAttemptId === undefined || f.stageAttemptId === r.stageAttemptId)) related.push(t);
      });
    });
    var sessions = related.filter(function (t) { return t.fields.agentContextId; }).map(function (t) {
      return t.fields.agentContextId;
    });
    var d = document.getElementById("details");
    var html = '<h3 class="stage-title">' + esc(r.name) + (r.kind === "stage" ? " · attempt " + r.attempt : "") +
      '</h3><div class="sub">' + esc(r.status) + " · " + (r.endedAt ? dur(r.endedAt - r.startedAt) : "running") +
      " · context " + esc(r.contextId) + "</div>";
    if (r.note) html += "<p>" + esc(r.note) + "</p>";
    if (sessions.length) html += "<p>agent session in context " + sessions.map(esc).join(", ") + "</p>";
    html += '<ul class="plain">' + related.map(function (t) {
      return '<li><a href="#" data-goto="' + esc(t.turnId) + '">' + esc(t.turnId + " · " + t.summary) + "</a></li>";
    }).join("") + "</ul>";
    d.innerHTML = html;
    var lanes = document.querySelectorAll("#dag g.lane");
    for (var k = 0; k < lanes.length; k++) {
      var id = lanes[k].getAttribute("data-context");
      lanes[k].classList.toggle("dim", id !== r.contextId && sessions.indexOf(id) < 0);
    }
  }

  function select(selector) {
    var old = document.querySelectorAll(".selected");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("selected");
    var lanes = document.querySelectorAll("#dag g.lane.dim");
    for (var j = 0; j < lanes.length; j++) lanes[j].classList.remove("dim");
    var e = document.querySelector(selector);
    if (e) e.classList.add("selected");
  }

  function render(data) {
    state.data = data;
    state.turns = {};
    var n = 0;
    data.trace.contexts.forEach(function (c) {
      c.turns.forEach(function (t) { t.contextId = c.contextId; state.turns[t.turnId] = t; n++; });
    });
    document.getElementById("stat-contexts").textContent = data.trace.contexts.length;
    document.getElementById("stat-turns").textContent = n;
    document.getElementById("stat-links").textContent = data.trace.links.length;
    drawDag(data.trace);
    drawTimeline(data.timeline);
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var turn = t.closest("circle.turn");
    if (turn) { showTurn(turn.getAttribute("data-turn")); return; }
    var row = t.closest("#timeline .row");
    if (row) { showRow(Number(row.getAttribute("data-row"))); return; }
    var go = t.closest("[data-goto]");
    if (go) { ev.preventDefault(); showTurn(go.getAttribute("data-goto")); }
  });

  var legend = document.getElementById("legend");
  LEGEND.forEach(function (l) {
    legend.appendChild(el("i", { style: "background:" + l[1] }));
    legend.appendChild(document.createTextNode(l[0]));
  });
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  render(data);
  document.body.setAttribute("data-rendered", "true");
  if (data.live && typeof EventSource !== "undefined") {
    var badge = document.getElementById("live");
    var source = new EventSource(data.live.events);
    source.addEventListener("change", function () {
      fetch(data.live.json).then(function (r) { return r.json(); }).then(function (next) {
        next.live = data.live;
        render(next);
        badge.textContent = "live · updated " + new Date().toLocaleTimeString();
      });
    });
    source.onopen = function () { badge.textContent = "live"; };
    source.onerror = function () { badge.textContent = "reconnecting…"; };
  }
})();
`;
