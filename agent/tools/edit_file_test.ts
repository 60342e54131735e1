import assert from "node:assert/strict";
import { join } from "node:path";
import { editFileTool } from "./edit_file.ts";
import { call, tempWorkspace } from "./test_util.ts";

Deno.test("edit_file replaces the one exact match", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.ts");
  await Deno.writeTextFile(path, "const a = 1;\nconst b = 2;\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: path,
    old_string: "b = 2",
    new_string: "b = 3",
  });
  assert.equal(r.isError, false);
  assert.match(r.content, /1 replacement made/);
  assert.equal(await Deno.readTextFile(path), "const a = 1;\nconst b = 3;\n");
});

Deno.test("edit_file refuses an old_string that matches more than once, naming the count", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.txt");
  await Deno.writeTextFile(path, "x\nx\nx\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: path,
    old_string: "x",
    new_string: "y",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /matches 3 locations .*more surrounding context.*replace_all/);
  assert.equal(await Deno.readTextFile(path), "x\nx\nx\n");
});

Deno.test("edit_file with replace_all replaces every occurrence", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.txt");
  await Deno.writeTextFile(path, "x-x-x");
  const r = await call(editFileTool(), ws.env, {
    file_path: path,
    old_string: "x",
    new_string: "$&y",
    replace_all: true,
  });
  assert.match(r.content, /3 replacements made/);
  assert.equal(await Deno.readTextFile(path), "$&y-$&y-$&y", "replacement text is literal");
});

Deno.test("edit_file reports a missing old_string and leaves the file alone", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.txt");
  await Deno.writeTextFile(path, "hello\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: path,
    old_string: "bye",
    new_string: "x",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /old_string was not found in .*a\.txt/);
  assert.equal(await Deno.readTextFile(path), "hello\n");
});

Deno.test("edit_file falls back to whitespace-insensitive whole-line matching and says so", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.py");
  await Deno.writeTextFile(path, "def f():\n    return  1   \n\nprint(f())\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: path,
    old_string: "def f():\n  return 1\n",
    new_string: "def f():\n    return 2\n",
  });
  assert.equal(r.isError, false, r.content);
  assert.match(r.content, /after normalising whitespace/);
  assert.equal(await Deno.readTextFile(path), "def f():\n    return 2\n\nprint(f())\n");
});

Deno.test("edit_file keeps CRLF line endings of untouched lines", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "a.txt");
  await Deno.writeTextFile(path, "one\r\ntwo\r\n");
  await call(editFileTool(), ws.env, { file_path: path, old_string: "two", new_string: "2" });
  assert.equal(await Deno.readTextFile(path), "one\r\n2\r\n");
});

Deno.test("edit_file with identical old and new strings is an error", async () => {
  await using ws = await tempWorkspace();
  const r = await call(editFileTool(), ws.env, {
    file_path: "a",
    old_string: "x",
    new_string: "x",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /identical/);
});

Deno.test("edit_file rejects an empty old_string as invalid arguments", async () => {
  await using ws = await tempWorkspace();
  const r = await call(editFileTool(), ws.env, { file_path: "a", old_string: "", new_string: "x" });
  assert.equal(r.isError, true);
  assert.match(r.content, /invalid arguments for edit_file: old_string/);
});
