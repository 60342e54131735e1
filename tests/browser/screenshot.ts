/**
 * Takes a screenshot of a trace page with the system Chromium (for the
 * docs): `deno run … tests/browser/screenshot.ts trace.html docs/trace.png [selector]`.
 * With a selector, clicks it first (e.g. a timeline row) so the details
 * panel shows a record.
 *
 * @module
 */
import puppeteer from "puppeteer-core";
import { findChromium } from "./chromium.ts";

if (import.meta.main) {
  const [html, png, click] = Deno.args;
  if (!html || !png) {
    console.error("usage: screenshot.ts <trace.html> <out.png> [css selector to click]");
    Deno.exit(2);
  }
  const executablePath = findChromium();
  if (!executablePath) {
    console.error("Chromium is not installed (apt-get install chromium, or set FORGE_CHROMIUM)");
    Deno.exit(1);
  }
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox"],
    defaultViewport: { width: 1440, height: 900, deviceScaleFactor: 1 },
  });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${await Deno.realPath(html)}`);
    await page.waitForSelector("body[data-rendered=true]");
    if (click) await page.click(click);
    await page.screenshot({ path: png as `${string}.png` });
    console.log(`wrote ${png}`);
  } finally {
    await browser.close();
  }
}
