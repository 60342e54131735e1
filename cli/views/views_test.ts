/**
 * The view commands over a real Deno KV file holding two runs of the demo's
 * scripted agent session (each with a subagent in a forked context).
 */
import assert from "node:assert/strict";
import { type ForgeStore, isTurnStoreError } from "@forge/turnstore";
import { writeScriptedSession } from "./session_fixture.ts";
import { openStore as openTurnStore } from "@forge/stores";
import { runCli } from "../cli.ts";
import { PROJECT_BUNDLES, PROJECT_CATALOGS } from "../catalogs.ts";
import { listSessions } from "./sessions.ts";
import { captureCli } from "./cli_fixture.ts";
import { readTrace } from "../trace/model.ts";

async function twoDemoSessions(): Promise<{ dir: string; url: string; roots: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "forge-views-" });
  const url = `kv:${dir}/views.kv`;
  await using store = await openTurnStore(url);
  const roots = [
    await writeScriptedSession(store, `${dir}/ws1`),
    await writeScriptedSession(store, `${dir}/ws2`),
  ];
  return { dir, url, roots };
}

const cli = captureCli;

Deno.test("views: sessions, trace and serve over a KV file with two sessions and their subagents", async (t) => {
  const { dir, url, roots } = await twoDemoSessions();
  try {
    await t.step(
      "listSessions lists top-level sessions newest first, subagents counted not listed",
      async () => {
        await using store = await openTurnStore(url);
        const page = await listSessions(store, { limit: 10 });
        assert.deepEqual(page.sessions.map((s) => s.contextId), [roots[1], roots[0]]);
        for (const s of page.sessions) {
          assert.equal(s.state, "closed");
          assert.equal(s.subagents, 1);
          assert.equal(s.toolCalls, 5, "the parent's own tool calls, not the subagent's");
          assert.equal(s.model, "scripted");
          assert.ok(s.startedAt! <= s.endedAt!);
        }
        assert.equal(page.nextBeforeContextId, undefined);
        const first = await listSessions(store, { limit: 1 });
        assert.deepEqual(first.sessions.map((s) => s.contextId), [roots[1]]);
        const next = await listSessions(store, {
          limit: 1,
          beforeContextId: first.nextBeforeContextId,
        });
        assert.deepEqual(next.sessions.map((s) => s.contextId), [roots[0]]);
      },
    );

    await t.step("forge sessions prints a table and --json a page", async () => {
      const text = await cli(["sessions", "--store", url]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^CONTEXT\s+SESSION\s+STATE/);
      assert.equal(text.out.split("\n").length, 3);
      const json = await cli(["sessions", "--store", url, "--json", "--limit", "1"]);
      const page = JSON.parse(json.out);
      assert.equal(page.sessions.length, 1);
      assert.equal(page.nextBeforeContextId, roots[1]);
      const bad = await cli(["sessions", "--store", url, "--limit", "0"]);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--limit must be a whole number/);
    });

    await t.step("readTrace follows the subagent link to its forked context", async () => {
      await using store: ForgeStore = await openTurnStore(url);
      const trace = await readTrace(store, roots[0], {
        catalogs: PROJECT_CATALOGS,
        bundles: PROJECT_BUNDLES,
      });
      assert.equal(trace.contexts.length, 2);
      const [parent, child] = trace.contexts;
      assert.equal(parent.kind, "session");
      assert.equal(child.kind, "subagent");
      assert.equal(child.forkContextId, parent.contextId);
      assert.ok(
        parent.turns.some((t) => t.turnId === child.forkTurnId),
        "forks from a parent turn",
      );
      assert.equal(child.turns[0].parentTurnId, child.forkTurnId);
      // The spawn record names the child's context, and so does its close record.
      assert.ok(trace.links.length >= 1);
      for (const l of trace.links) {
        assert.deepEqual([l.field, l.fromContextId, l.toContextId], [
          "childContextId",
          parent.contextId,
          child.contextId,
        ]);
      }
      const spawn = trace.types["forge.link.subagent_spawn@2"] ??
        Object.entries(trace.types).find(([k]) => k.startsWith("forge.link.subagent_spawn"))?.[1];
      assert.ok(spawn?.childContextId, "field descriptors come from the registry bundles");
      assert.equal(typeof spawn.childContextId.tag, "number");
    });

    await t.step("forge trace renders text, dot and a self-contained html page", async () => {
      const text = await cli(["trace", roots[0], "--store", url]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /\[session\] context \d+: \d+ turns/);
      assert.match(
        text.out,
        /└─ session .* \[subagent\] context \d+: \d+ turns, head \d+, fork of turn \d+, via childContextId/,
      );
      assert.match(text.out, /tool calls:\n\s+\+0ms\s+read_file/);
      const dot = await cli(["trace", roots[0], "--store", url, "--format", "dot"]);
      assert.match(dot.out, /^digraph forge_trace \{/);
      assert.equal(dot.out.match(/subgraph cluster_/g)?.length, 2);
      assert.match(dot.out, /style=dashed, color="#2563eb", label="childContextId"/);
      const file = `${dir}/trace.html`;
      const html = await cli([
        "trace",
        roots[0],
        "--store",
        url,
        "--format",
        "html",
        "--out",
        file,
      ]);
      assert.equal(html.code, 0, html.err);
      const page = await Deno.readTextFile(file);
      assert.doesNotMatch(page, /(src|href)="https?:/, "no network needed");
      const data = JSON.parse(
        /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(page)![1],
      );
      assert.equal(data.trace.contexts.length, 2);
      assert.equal(data.timeline.length, 6);
    });

    await t.step(
      "bad trace targets: unknown context exits 1, bad format and run ids exit 2",
      async () => {
        const missing = await cli(["trace", "999999", "--store", url]);
        assert.equal(missing.code, 1);
        assert.match(missing.err, /forge trace: NotFound: .*context 999999/);
        const format = await cli(["trace", roots[0], "--store", url, "--format", "svg"]);
        assert.equal(format.code, 2);
        assert.match(format.err, /--format must be text, dot, html or json/);
        const run = await cli(["trace", "no-such-run", "--store", url]);
        assert.equal(run.code, 2);
        assert.match(run.err, /neither a context id nor a run id/);
      },
    );

    await t.step(
      "forge serve serves the index, trace pages and data, and pushes changes",
      async () => {
        const stop = new AbortController();
        let out = "";
        const running = runCli(["serve", "--port", "0", "--store", url], {
          out: (t) => out += t,
          err: () => {},
        }, {
          openStore: (u) => openTurnStore(u),
          catalogs: PROJECT_CATALOGS,
          bundles: PROJECT_BUNDLES,
          signal: stop.signal,
        });
        try {
          while (!out.includes("http://")) await new Promise((r) => setTimeout(r, 20));
          const base = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
          const index = await (await fetch(`${base}/`)).text();
          assert.match(index, /Agent sessions \(2\)/);
          assert.ok(index.includes(`href="/trace/${roots[0]}"`));
          const page = await fetch(`${base}/trace/${roots[0]}`);
          assert.equal(page.status, 200);
          assert.match(await page.text(), /"live":\{"events":"\/events\?context=/);
          const data = await (await fetch(`${base}/api/trace/${roots[0]}`)).json();
          assert.equal(data.trace.contexts.length, 2);
          const missing = await fetch(`${base}/trace/424242`);
          assert.equal(missing.status, 404);
          await missing.body?.cancel();
          // A page from another site, rebinding its name to 127.0.0.1, is refused.
          // (fetch sets Host itself, so the request is written by hand.)
          assert.match(await rawGet(base, "/api/contexts", "evil.example"), /^HTTP\/1\.1 403/);
          assert.match(await rawGet(base, "/api/contexts", "localhost"), /^HTTP\/1\.1 200/);
          // A change to the store reaches an open event stream.
          const events = await fetch(`${base}/events?context=${roots[0]}`);
          const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
          let seen = "";
          while (!seen.includes("event: ready")) seen += (await reader.read()).value ?? "";
          {
            await using writer = await openTurnStore(url);
            await writer.appendTurn({
              contextId: roots[0],
              typeId: "test.note",
              typeVersion: 1,
              payload: new Uint8Array([0x80]),
            });
          }
          while (!seen.includes("event: change")) seen += (await reader.read()).value ?? "";
          await reader.cancel();
        } finally {
          stop.abort();
          assert.equal(await running, 0);
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("views: a store error in a view command is reported with its code, not thrown", async () => {
  const result = await cli(["sessions", "--store", "nope:"]);
  assert.ok(result.code === 1 || result.code === 2, result.err);
  assert.match(result.err, /forge sessions: /);
  assert.ok(!isTurnStoreError(result));
});

/** The start of the answer to a GET written by hand, with the given Host header. */
async function rawGet(base: string, path: string, host: string): Promise<string> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}
