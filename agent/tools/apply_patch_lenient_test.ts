// apply_patch as models really write patches. Cases modelled on the lenient
// behaviours of OpenAI Codex's apply-patch parser and on the failures seen
// when replaying another agent's apply_patch suite; each checks the files on
// disk, and each refusal checks that nothing changed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { APPLY_PATCH_DESCRIPTION, applyPatchTool } from "./apply_patch.ts";
import { parsePatch } from "./v4a.ts";
import { call, tempWorkspace } from "./test_util.ts";

const lines = (...l: string[]) => l.join("\n");

/** Applies `patch` in a workspace holding `files`; returns the result and every file after. */
async function run(files: Record<string, string>, patch: string) {
  await using ws = await tempWorkspace();
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(ws.dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(ws.dir, path), text);
  }
  const result = await call(applyPatchTool(), ws.env, { patch });
  const after: Record<string, string> = {};
  for await (const entry of Deno.readDir(ws.dir)) {
    if (entry.isFile) after[entry.name] = await Deno.readTextFile(join(ws.dir, entry.name));
  }
  return { result, after };
}

Deno.test("lenient: a blank line after *** End of File, before the next operation or End Patch", async () => {
  const { result, after } = await run(
    { "a.txt": "one\ntwo\n", "b.txt": "x\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: a.txt",
      "@@",
      "-two",
      "+TWO",
      "*** End of File",
      "",
      "*** Update File: b.txt",
      "@@",
      "-x",
      "+y",
      "*** End of File",
      "",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.deepEqual(after, { "a.txt": "one\nTWO\n", "b.txt": "y\n" });
});

Deno.test("lenient: a trailing blank context line just before *** End Patch that the file lacks", async () => {
  const { result, after } = await run(
    { "main.py": "def main():\n    return 0\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: main.py",
      "@@ def main():",
      "-    return 0",
      "+    return 1",
      "",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["main.py"], "def main():\n    return 1\n");
});

Deno.test("lenient: a dropped trailing blank context line does not take the next file line with it", async () => {
  // The hunk adds a blank line after "a"; the blank context line after it is not in the file
  // there and is dropped. The added line is the patch's blank, not a copy of the line below.
  const { result, after } = await run(
    { "notes.txt": "a\nNEXT\nz\n" },
    lines("*** Begin Patch", "*** Update File: notes.txt", "@@", " a", " ", "+", "*** End Patch"),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["notes.txt"], "a\n\nNEXT\nz\n");
});

Deno.test("lenient: a trailing blank context line the file does have is matched, not dropped", async () => {
  const { result, after } = await run(
    { "a.txt": "a\n\nb\n" },
    lines("*** Begin Patch", "*** Update File: a.txt", "@@", "-a", "+A", " ", "*** End Patch"),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["a.txt"], "A\n\nb\n");
});

Deno.test("lenient: trailing blank lines between one file's hunk and the next header", async () => {
  const { result, after } = await run(
    { "a.txt": "1\n2\n", "b.txt": "3\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: a.txt",
      "@@",
      "-1",
      "+one",
      "",
      "",
      "*** Update File: b.txt",
      "@@",
      "-3",
      "+three",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.deepEqual(after, { "a.txt": "one\n2\n", "b.txt": "three\n" });
});

Deno.test("lenient: operation headers with leading spaces (Add, Delete, Update, Move to)", async () => {
  const { result, after } = await run(
    { "old.txt": "gone\n", "src.txt": "keep\nchange\n" },
    lines(
      "*** Begin Patch",
      "  *** Add File: new.txt",
      "+hello",
      " *** Delete File: old.txt",
      "   *** Update File: src.txt",
      "  *** Move to: dst.txt",
      "@@",
      " keep",
      "-change",
      "+changed",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.deepEqual(after, { "new.txt": "hello\n", "dst.txt": "keep\nchanged\n" });
});

Deno.test("lenient: whitespace around the Begin and End markers and after @@ (Codex scenarios 018, 020)", async () => {
  const { result, after } = await run(
    { "f.txt": "a\nb\n" },
    lines("  *** Begin Patch  ", "*** Update File: f.txt", "@@  ", "-b", "+B", " *** End Patch "),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["f.txt"], "a\nB\n");
});

for (
  const [name, open, close] of [
    ["<<'EOF'", "<<'EOF'", "EOF"],
    ["<<EOF", "<<EOF", "EOF"],
    ['<<"EOF"', '<<"EOF"', "EOF"],
    ['apply_patch <<"EOF"', 'apply_patch <<"EOF"', "EOF"],
    ["apply_patch <<'PATCH'", "apply_patch <<'PATCH'", "PATCH"],
  ] as const
) {
  Deno.test(`lenient: a patch wrapped in a shell heredoc (${name})`, async () => {
    const { result, after } = await run(
      { "f.txt": "x\n" },
      lines(
        open,
        "*** Begin Patch",
        "*** Update File: f.txt",
        "@@",
        "-x",
        "+y",
        "*** End Patch",
        close,
        "",
      ),
    );
    assert.equal(result.isError, false, result.content);
    assert.equal(after["f.txt"], "y\n");
  });
}

Deno.test("lenient: a heredoc whose closing delimiter is missing or different is refused, nothing changed", async () => {
  for (const close of ["", "END"]) {
    const { result, after } = await run(
      { "f.txt": "x\n" },
      lines(
        "<<'EOF'",
        "*** Begin Patch",
        "*** Update File: f.txt",
        "@@",
        "-x",
        "+y",
        "*** End Patch",
        close,
      ),
    );
    assert.equal(result.isError, true);
    assert.match(result.content, /nothing was changed: the patch opens a heredoc .* "EOF"/);
    assert.equal(after["f.txt"], "x\n");
  }
});

Deno.test("lenient: an empty line inside Add File content is an empty line (its '+' left out)", async () => {
  const { result, after } = await run(
    {},
    lines("*** Begin Patch", "*** Add File: a.md", "+# Title", "", "+body", "", "*** End Patch"),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["a.md"], "# Title\n\nbody\n");
});

Deno.test("lenient: the first hunk may omit @@ (Codex parses it the same)", () => {
  const [op] = parsePatch(
    lines("*** Begin Patch", "*** Update File: f.py", " import foo", "+bar", "*** End Patch"),
  );
  assert.deepEqual(op, {
    kind: "update",
    path: "f.py",
    moveTo: undefined,
    hunks: [{
      hint: undefined,
      oldLines: ["import foo"],
      newLines: ["import foo", "bar"],
      contextOf: [0, -1],
      atEof: false,
    }],
  });
});

Deno.test("lenient: pure addition and deletion-only hunks (Codex scenarios 016, 021)", async () => {
  const { result, after } = await run(
    { "a.txt": "one\ntwo\nthree\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: a.txt",
      "@@ one",
      "+one-and-a-half",
      "@@",
      "-three",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["a.txt"], "one\none-and-a-half\ntwo\n");
});

Deno.test("strict: Move to an existing target is refused, unlike Codex (scenario 010); nothing changes", async () => {
  const { result, after } = await run(
    { "a.txt": "a\n", "b.txt": "b\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: a.txt",
      "*** Move to: b.txt",
      "@@",
      "-a",
      "+A",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, true);
  assert.match(result.content, /Move to b\.txt: the target already exists/);
  assert.deepEqual(after, { "a.txt": "a\n", "b.txt": "b\n" });
});

Deno.test("strict: a failure after an operation that would succeed changes nothing, unlike Codex (scenario 015)", async () => {
  const { result, after } = await run(
    {},
    lines(
      "*** Begin Patch",
      "*** Add File: created.txt",
      "+hi",
      "*** Delete File: missing.txt",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, true);
  assert.match(result.content, /nothing was changed: Delete File missing\.txt/);
  assert.deepEqual(after, {});
});

Deno.test("strict: a missing final newline is kept, unlike Codex (scenario 014)", async () => {
  const { result, after } = await run(
    { "n.txt": "a\nb" },
    lines("*** Begin Patch", "*** Update File: n.txt", "@@", "-b", "+B", "*** End Patch"),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["n.txt"], "a\nB");
});

Deno.test("strict: a line of unknown kind inside a hunk is still an error", () => {
  assert.throws(
    () =>
      parsePatch(lines("*** Begin Patch", "*** Update File: f", "@@", "-a", "?b", "*** End Patch")),
    /must start with " ", "-" or "\+"/,
  );
});

Deno.test("the description the model reads states the strict choices and the tolerances", () => {
  for (
    const phrase of [
      "checked against the files before anything is written",
      "Add File refuses a path that exists",
      "Move to refuses a target",
      "without a final newline keeps",
      "heredoc",
      "trailing blank context line",
    ]
  ) assert.ok(APPLY_PATCH_DESCRIPTION.includes(phrase), phrase);
});

Deno.test("strict: a context line whose text starts with @@ stays context (a patch of a diff file)", async () => {
  const { result, after } = await run(
    { "x.diff": "@@ -1 +1 @@\n-a\n+b\n" },
    lines(
      "*** Begin Patch",
      "*** Update File: x.diff",
      "@@",
      " @@ -1 +1 @@",
      "--a",
      "+-A",
      "*** End Patch",
    ),
  );
  assert.equal(result.isError, false, result.content);
  assert.equal(after["x.diff"], "@@ -1 +1 @@\n-A\n+b\n");
});
