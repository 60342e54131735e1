/**
 * The trace page in a real headless browser: Debian's Chromium driven by
 * puppeteer-core over the DevTools protocol (the system browser through
 * `executablePath`, so nothing is downloaded). puppeteer-core rather than
 * playwright-core: playwright-core probes /proc/sys/fs/binfmt_misc when it
 * loads, which Deno only allows with every permission, and the tests run
 * with narrow ones. The page is opened from a file:// URL, so it proves the
 * page needs no network; any console error or page error fails the test.
 * Without Chromium the tests are ignored under a name that says so.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import { openStore as openTurnStore } from "../../stores/mod.ts";
import { writeScriptedSession } from "../../cli/views/session_fixture.ts";
import { runDemo } from "../../cli/demo.ts";
import { syntheticRunPage, tracePage } from "./fixtures.ts";
import type { PageData } from "../../cli/trace/html.ts";
import { findChromium } from "./chromium.ts";

const chromium = findChromium();
const suffix = chromium ? "" : " (ignored: Chromium is not installed; apt-get install chromium)";

/** Launches the browser, opens `html` from a file, and fails on console errors. */
async function withPage(
  html: string,
  fn: (page: Page, errors: string[], openMs: number) => Promise<void>,
): Promise<void> {
  const { default: puppeteer } = await import("puppeteer-core");
  const dir = await Deno.makeTempDir({ prefix: "forge-page-" });
  const file = `${dir}/trace.html`;
  await Deno.writeTextFile(file, html);
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox"],
      defaultViewport: { width: 1400, height: 900 },
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => errors.push(`failed request: ${r.url()}`));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) errors.push(`network request: ${r.url()}`);
    });
    const t0 = performance.now();
    await page.goto(`file://${file}`);
    await page.waitForSelector("body[data-rendered=true]");
    const openMs = performance.now() - t0;
    await fn(page, errors, openMs);
    assert.deepEqual(errors, [], "no console errors, page errors or network requests");
  } finally {
    await browser?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function counts(data: PageData) {
  return {
    lanes: data.trace.contexts.length,
    turns: data.trace.contexts.reduce((n, c) => n + c.turns.length, 0),
    rows: data.timeline.length,
  };
}

const count = (page: Page, selector: string) => page.$$eval(selector, (els) => els.length);
const text = (page: Page, selector: string) =>
  page.$eval(selector, (el) => (el as unknown as { innerText: string }).innerText);

async function rendered(page: Page) {
  return {
    lanes: await count(page, "#dag g.lane"),
    turns: await count(page, "#dag circle.turn"),
    rows: await count(page, "#timeline .row"),
  };
}

Deno.test({
  name: `trace page in Chromium: an agent session's DAG, tool timeline and record fields${suffix}`,
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-browser-" });
    const url = `kv:${dir}/demo.kv`;
    await using store = await openTurnStore(url);
    const contextId = await writeScriptedSession(store, `${dir}/ws`);
    const { data, html } = await tracePage(store, contextId);
    try {
      await withPage(html, async (page) => {
        const want = counts(data);
        assert.equal(want.lanes, 2, "a session and its subagent");
        assert.deepEqual(await rendered(page), want);
        assert.equal(await text(page, "#stat-turns"), String(want.turns));
        assert.equal(await count(page, "#dag path.fork"), 1, "the subagent forks once");
        // A turn opens its fields, named from the registry bundle with tag and type.
        await page.click("#dag circle.turn");
        const firstField = await text(page, "#details table.fields tr.field");
        assert.match(firstField, /session_id\s*tag 1 · string/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `trace page in Chromium: a pipeline run's stages, a click into a stage, and a 1,000-stage page${suffix}`,
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const small = await syntheticRunPage(60);
    await withPage(small.html, async (page) => {
      const want = counts(small.data);
      assert.equal(want.rows, 61, "60 stages, one retried: 61 attempts");
      assert.deepEqual(await rendered(page), want);
      await page.click('#timeline .row[data-row="0"] .name');
      assert.equal(await text(page, "#details .stage-title"), "stage_0 · attempt 1");
      assert.match(await text(page, "#details"), /success/);
      const retried = small.data.timeline.findIndex((r) => r.status === "retry");
      await page.click(`#timeline .row[data-row="${retried}"] .name`);
      assert.match(await text(page, "#details"), /goal gate not met/);
      // From the stage to one of its records, and its fields.
      await page.click("#details [data-goto]");
      assert.match(await text(page, "#details"), /node_id\s*tag \d+ · string/);
    });
    const big = await syntheticRunPage(1000);
    await withPage(big.html, async (page, _errors, openMs) => {
      const want = counts(big.data);
      assert.deepEqual(await rendered(page), want);
      const kib = Math.round(big.html.length / 1024);
      console.log(
        `  1,000-stage run page (${want.turns} turns, ${want.rows} timeline rows, ${kib} KiB): ` +
          `opened and drawn in ${openMs.toFixed(0)} ms (target < 1,000 ms; measured, not asserted)`,
      );
    });
  },
});

Deno.test({
  name: `trace page in Chromium: the demo run's stages, branches and stage sessions${suffix}`,
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-browser-demo-" });
    try {
      const demo = await runDemo(`kv:${dir}/demo.kv`, dir, { print: () => {} });
      await using store = await openTurnStore(`kv:${dir}/demo.kv`);
      const { data, html } = await tracePage(store, demo.contextId);
      await withPage(html, async (page) => {
        const want = counts(data);
        assert.equal(want.lanes, 9, "the run, 5 stage sessions, a subagent, 2 branches");
        assert.equal(want.rows, 10, "10 stage attempts, the branches' included");
        assert.deepEqual(await rendered(page), want);
        const row = data.timeline.findIndex((r) => r.name === "implement" && r.attempt === 2);
        await page.click(`#timeline .row[data-row="${row}"] .name`);
        assert.equal(await text(page, "#details .stage-title"), "implement · attempt 2");
        assert.match(await text(page, "#details"), /agent session in context \d+/);
        const dimmed = await count(page, "#dag g.lane.dim");
        assert.equal(dimmed, want.lanes - 2, "only the run and the stage's session stay lit");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `forge serve in Chromium: an open trace page redraws when the store changes${suffix}`,
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { runCli } = await import("../../cli/cli.ts");
    const { PROJECT_BUNDLES, PROJECT_CATALOGS } = await import("../../cli/catalogs.ts");
    const dir = await Deno.makeTempDir({ prefix: "forge-browser-serve-" });
    const url = `kv:${dir}/serve.kv`;
    const stop = new AbortController();
    let said = "";
    let serving: Promise<number> | undefined;
    try {
      let contextId: string;
      {
        await using store = await openTurnStore(url);
        contextId = await writeScriptedSession(store, `${dir}/ws`);
      }
      serving = runCli(["serve", "--port", "0", "--store", url], {
        out: (t) => said += t,
        err: () => {},
      }, {
        openStore: openTurnStore,
        catalogs: PROJECT_CATALOGS,
        bundles: PROJECT_BUNDLES,
        signal: stop.signal,
      });
      while (!said.includes("http://")) await new Promise((r) => setTimeout(r, 20));
      const base = /http:\/\/127\.0\.0\.1:\d+/.exec(said)![0];
      const { default: puppeteer } = await import("puppeteer-core");
      const browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        args: ["--no-sandbox"],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        await page.goto(`${base}/trace/${contextId}`);
        await page.waitForSelector("body[data-rendered=true]");
        const before = Number(await text(page, "#stat-turns"));
        {
          await using writer = await openTurnStore(url);
          for (let i = 0; i < 3; i++) {
            await writer.appendTurn({
              contextId,
              typeId: "test.note",
              typeVersion: 1,
              payload: new Uint8Array([0x80]),
            });
          }
        }
        // Runs in the page; a string keeps the DOM out of Deno's type check.
        await page.waitForFunction(
          `Number(document.getElementById("stat-turns").textContent) === ${before + 3}`,
          { timeout: 10_000 },
        );
        assert.equal(await count(page, "#dag circle.turn"), before + 3);
        assert.match(await text(page, "#live"), /live · updated/);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    } finally {
      stop.abort();
      if (serving) assert.equal(await serving, 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
