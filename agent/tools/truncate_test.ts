import assert from "node:assert/strict";
import { outputLimitFor, truncateChars, truncateLines, truncateToolOutput } from "./truncate.ts";

Deno.test("truncation: output within the limit is unchanged", () => {
  assert.equal(truncateChars("abc", 3, "head_tail"), "abc");
  assert.equal(truncateLines("a\nb", 2), "a\nb");
});

Deno.test("truncation head_tail keeps both ends and says how many characters went", () => {
  const out = truncateChars("A".repeat(50) + "B".repeat(50), 20, "head_tail");
  assert.ok(
    out.startsWith(
      "A".repeat(10) +
        "\n\n[WARNING: Tool output was truncated. 80 characters were removed from the middle.",
    ),
  );
  assert.ok(out.endsWith("]\n\n" + "B".repeat(10)));
});

Deno.test("truncation tail keeps the end and says how many leading characters went", () => {
  const out = truncateChars("0123456789", 4, "tail");
  assert.equal(
    out,
    "[WARNING: Tool output was truncated. First 6 characters were removed. The full output is available in the event stream.]\n\n6789",
  );
});

Deno.test("truncation by lines keeps head and tail with an omitted-lines marker", () => {
  const text = Array.from({ length: 10 }, (_, i) => `l${i}`).join("\n");
  assert.equal(truncateLines(text, 4), "l0\nl1\n[... 6 lines omitted ...]\nl8\nl9");
});

Deno.test("truncation: characters are cut first, so two 10 MB lines cannot pass the line limit", () => {
  const huge = "x".repeat(10_000_000) + "\n" + "y".repeat(10_000_000);
  const out = truncateToolOutput(huge, outputLimitFor("shell"));
  assert.ok(out.length < 31_000, `got ${out.length} characters`);
  assert.ok(out.split("\n").length < 10);
  assert.match(out, /19970001 characters were removed from the middle/);
});

Deno.test("truncation defaults follow the spec tables and can be overridden", () => {
  assert.deepEqual(outputLimitFor("read_file"), {
    maxChars: 50_000,
    mode: "head_tail",
    maxLines: undefined,
  });
  assert.deepEqual(outputLimitFor("shell"), { maxChars: 30_000, mode: "head_tail", maxLines: 256 });
  assert.deepEqual(outputLimitFor("grep"), { maxChars: 20_000, mode: "tail", maxLines: 200 });
  assert.deepEqual(outputLimitFor("glob"), { maxChars: 20_000, mode: "tail", maxLines: 500 });
  assert.equal(outputLimitFor("write_file").maxChars, 1000);
  assert.deepEqual(
    outputLimitFor("shell", { outputLimits: { shell: 10 }, lineLimits: { shell: null } }),
    { maxChars: 10, mode: "head_tail", maxLines: undefined },
  );
});
