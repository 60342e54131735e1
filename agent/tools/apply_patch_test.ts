import assert from "node:assert/strict";
import { join } from "node:path";
import { applyPatchTool } from "./apply_patch.ts";
import { applyHunks, parsePatch, PatchError } from "./v4a.ts";
import { call, tempWorkspace } from "./test_util.ts";

const patch = (...lines: string[]) => ["*** Begin Patch", ...lines, "*** End Patch"].join("\n");

Deno.test("apply_patch adds a file from '+' lines", async () => {
  await using ws = await tempWorkspace();
  const r = await call(applyPatchTool(), ws.env, {
    patch: patch(
      "*** Add File: src/utils/helpers.py",
      "+def greet(name):",
      '+    return f"Hello, {name}!"',
    ),
  });
  assert.equal(r.isError, false, r.content);
  assert.equal(r.content, "Success. Updated the following files:\nA src/utils/helpers.py");
  assert.equal(
    await Deno.readTextFile(join(ws.dir, "src/utils/helpers.py")),
    'def greet(name):\n    return f"Hello, {name}!"\n',
  );
});

Deno.test("apply_patch deletes a file", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "old.py"), "x\n");
  const r = await call(applyPatchTool(), ws.env, { patch: patch("*** Delete File: old.py") });
  assert.equal(r.content, "Success. Updated the following files:\nD old.py");
  await assert.rejects(Deno.stat(join(ws.dir, "old.py")), Deno.errors.NotFound);
});

Deno.test("apply_patch updates a file using the @@ hint and context (spec example)", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(
    join(ws.dir, "main.py"),
    'def main():\n    print("Hello")\n    return 0\n',
  );
  const r = await call(applyPatchTool(), ws.env, {
    patch: patch(
      "*** Update File: main.py",
      "@@ def main():",
      '     print("Hello")',
      "-    return 0",
      '+    print("World")',
      "+    return 1",
    ),
  });
  assert.equal(r.isError, false, r.content);
  assert.equal(
    await Deno.readTextFile(join(ws.dir, "main.py")),
    'def main():\n    print("Hello")\n    print("World")\n    return 1\n',
  );
});

Deno.test("apply_patch applies several hunks in order, including the spec's multi-hunk example", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(
    join(ws.dir, "config.py"),
    'DEFAULT_TIMEOUT = 30\n\ndef load_config():\n    config = {}\n    config["debug"] = False\n    return config\n',
  );
  const r = await call(applyPatchTool(), ws.env, {
    patch: patch(
      "*** Update File: config.py",
      "@@ DEFAULT_TIMEOUT = 30",
      "-DEFAULT_TIMEOUT = 30",
      "+DEFAULT_TIMEOUT = 60",
      "@@ def load_config():",
      "     config = {}",
      '-    config["debug"] = False',
      '+    config["debug"] = True',
    ),
  });
  assert.equal(r.isError, false, r.content);
  assert.equal(
    await Deno.readTextFile(join(ws.dir, "config.py")),
    'DEFAULT_TIMEOUT = 60\n\ndef load_config():\n    config = {}\n    config["debug"] = True\n    return config\n',
  );
});

Deno.test("apply_patch updates and moves a file in one operation", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "old_name.py"), "import os\nimport sys\nimport old_dep\n");
  const r = await call(applyPatchTool(), ws.env, {
    patch: patch(
      "*** Update File: old_name.py",
      "*** Move to: pkg/new_name.py",
      "@@ import os",
      " import sys",
      "-import old_dep",
      "+import new_dep",
    ),
  });
  assert.equal(
    r.content,
    "Success. Updated the following files:\nM old_name.py -> pkg/new_name.py",
  );
  assert.equal(
    await Deno.readTextFile(join(ws.dir, "pkg/new_name.py")),
    "import os\nimport sys\nimport new_dep\n",
  );
  await assert.rejects(Deno.stat(join(ws.dir, "old_name.py")), Deno.errors.NotFound);
});

Deno.test("apply_patch matches context despite trailing whitespace and Unicode punctuation", () => {
  const text = "say(\u201Chi\u201D)   \nnext\u2014line\n";
  const result = applyHunks("f", text, [{
    hint: undefined,
    oldLines: ['say("hi")', "next-line"],
    newLines: ['say("bye")', "next-line"],
    atEof: false,
  }]);
  assert.equal(result, 'say("bye")\nnext-line\n');
});

Deno.test("apply_patch honours *** End of File by matching at the end", () => {
  const text = "x\ny\nx\n";
  const ops = parsePatch(patch("*** Update File: f", "@@", "-x", "+z", "*** End of File"));
  assert.equal(ops[0].kind, "update");
  const result = applyHunks("f", text, ops[0].kind === "update" ? ops[0].hunks : []);
  assert.equal(result, "x\ny\nz\n");
});

Deno.test("apply_patch: a hunk that does not fit names the file and hunk, and nothing is written", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "one\ntwo\n");
  const r = await call(applyPatchTool(), ws.env, {
    patch: patch(
      "*** Add File: new.txt",
      "+new",
      "*** Update File: a.txt",
      "@@",
      "-one",
      "+ONE",
      "@@ two",
      "-three",
      "+THREE",
    ),
  });
  assert.equal(r.isError, true);
  assert.match(
    r.content,
    /nothing was changed: Update File a\.txt, hunk 2 \(@@ two\): could not find these lines/,
  );
  assert.match(r.content, /three/);
  assert.equal(await Deno.readTextFile(join(ws.dir, "a.txt")), "one\ntwo\n");
  await assert.rejects(Deno.stat(join(ws.dir, "new.txt")), Deno.errors.NotFound);
});

Deno.test("apply_patch refuses to add an existing file or update a missing one", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "a\n");
  const add = await call(applyPatchTool(), ws.env, { patch: patch("*** Add File: a.txt", "+b") });
  assert.match(add.content, /Add File a\.txt: the file already exists/);
  const upd = await call(applyPatchTool(), ws.env, {
    patch: patch("*** Update File: b.txt", "@@", "-a", "+b"),
  });
  assert.match(upd.content, /Update File b\.txt: the file does not exist/);
  assert.equal(await Deno.readTextFile(join(ws.dir, "a.txt")), "a\n");
});

Deno.test("apply_patch parse errors say what was expected and where", () => {
  assert.throws(() => parsePatch("*** Update File: a\n"), /must start with "\*\*\* Begin Patch"/);
  assert.throws(
    () => parsePatch("*** Begin Patch\n*** Add File: a\n+x\n"),
    /must end with "\*\*\* End Patch"/,
  );
  assert.throws(
    () => parsePatch(patch("*** Add File: a", "x")),
    /Add File a: line 3 must start with "\+"/,
  );
  assert.throws(
    () => parsePatch(patch("*** Update File: a", "@@", "?bad")),
    /hunk 1: line 4 must start with/,
  );
  assert.throws(() => parsePatch(patch("*** Frobnicate: a")), /expected "\*\*\* Add File:"/);
  assert.throws(() => parsePatch(patch()), PatchError);
});

Deno.test("apply_patch keeps a file's CRLF endings and its missing final newline", () => {
  assert.equal(
    applyHunks("f", "a\r\nb\r\n", [{ oldLines: ["a"], newLines: ["A"], atEof: false }]),
    "A\r\nb\r\n",
  );
  assert.equal(
    applyHunks("f", "a\nb", [{ oldLines: ["b"], newLines: ["B"], atEof: false }]),
    "a\nB",
  );
});
