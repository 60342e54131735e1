import assert from "node:assert/strict";
import { join } from "node:path";
import { numberLines, readFileTool } from "./read_file.ts";
import { writeFileTool } from "./write_file.ts";
import { call, tempWorkspace } from "./test_util.ts";

Deno.test("read_file numbers lines as 'NNN | text' padded to the widest number", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(
    join(ws.dir, "a.txt"),
    Array.from({ length: 12 }, (_, i) => `l${i + 1}`).join("\n") + "\n",
  );
  const r = await call(readFileTool(), ws.env, { file_path: join(ws.dir, "a.txt") });
  assert.deepEqual(r.isError, false);
  const lines = r.content.split("\n");
  assert.deepEqual(lines[0], " 1 | l1");
  assert.deepEqual(lines[11], "12 | l12");
  assert.deepEqual(lines.length, 12);
});

Deno.test("read_file honours offset and limit and says where to continue", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "a\nb\nc\nd\ne\n");
  const r = await call(readFileTool(), ws.env, { file_path: "a.txt", offset: 2, limit: 2 });
  assert.deepEqual(r.content, "2 | b\n3 | c\n[Showing lines 2-3 of 5. Use offset=4 to read more.]");
});

Deno.test("read_file reports an offset past the end as an error", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "a\n");
  const r = await call(readFileTool(), ws.env, { file_path: "a.txt", offset: 5 });
  assert.ok(r.isError);
  assert.match(r.content, /past the end.*1 lines/);
});

Deno.test("read_file refuses binary files with a message naming the size", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeFile(join(ws.dir, "b.bin"), new Uint8Array([1, 0, 2, 3]));
  const r = await call(readFileTool(), ws.env, { file_path: "b.bin" });
  assert.ok(r.isError);
  assert.match(r.content, /binary file .*4 bytes/);
});

Deno.test("read_file returns image data for a PNG", async () => {
  await using ws = await tempWorkspace();
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  await Deno.writeFile(join(ws.dir, "i.png"), png);
  const r = await call(readFileTool(), ws.env, { file_path: "i.png" });
  assert.deepEqual(r.isError, false);
  assert.deepEqual(r.image?.mediaType, "image/png");
  assert.deepEqual(r.image?.data, png);
});

Deno.test("read_file on a missing file is a NotFound tool error", async () => {
  await using ws = await tempWorkspace();
  const r = await call(readFileTool(), ws.env, { file_path: "nope.txt" });
  assert.ok(r.isError);
  assert.match(r.content, /^NotFound: .*nope\.txt/);
});

Deno.test("read_file rejects a non-integer offset before touching the file", async () => {
  await using ws = await tempWorkspace();
  const r = await call(readFileTool(), ws.env, { file_path: "a.txt", offset: 0.5 });
  assert.ok(r.isError);
  assert.match(r.content, /invalid arguments for read_file: offset/);
});

Deno.test("write_file creates parent directories and reports bytes written", async () => {
  await using ws = await tempWorkspace();
  const r = await call(writeFileTool(), ws.env, { file_path: "x/y/z.txt", content: "héllo" });
  assert.deepEqual(r.isError, false);
  assert.match(r.content, /Created x\/y\/z\.txt \(6 bytes written\)/);
  assert.deepEqual(await Deno.readTextFile(join(ws.dir, "x/y/z.txt")), "héllo");
});

Deno.test("write_file replaces a file, keeps its mode and leaves no temp file", async () => {
  await using ws = await tempWorkspace();
  const path = join(ws.dir, "run.sh");
  await Deno.writeTextFile(path, "old");
  await Deno.chmod(path, 0o755);
  const r = await call(writeFileTool(), ws.env, { file_path: path, content: "new" });
  assert.match(r.content, /^Overwrote/);
  assert.deepEqual(await Deno.readTextFile(path), "new");
  assert.deepEqual((await Deno.stat(path)).mode! & 0o777, 0o755);
  const names = (await Array.fromAsync(Deno.readDir(ws.dir))).map((e) => e.name);
  assert.deepEqual(names, ["run.sh"]);
});

Deno.test("write_file onto a directory is an IsDirectory error and changes nothing", async () => {
  await using ws = await tempWorkspace();
  await Deno.mkdir(join(ws.dir, "d"));
  const r = await call(writeFileTool(), ws.env, { file_path: "d", content: "x" });
  assert.ok(r.isError);
  assert.match(r.content, /^IsDirectory: d is a directory/);
  assert.ok((await Deno.stat(join(ws.dir, "d"))).isDirectory);
});

Deno.test("numberLines ignores a final newline and strips carriage returns", () => {
  assert.equal(numberLines("a\r\nb\n", 9), " 9 | a\n10 | b");
  assert.equal(numberLines("", 1), "");
});

Deno.test("read_file keeps an empty line inside a window", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "a\n\nc\n");
  const r = await call(readFileTool(), ws.env, { file_path: "a.txt" });
  assert.equal(r.content, "1 | a\n2 | \n3 | c");
});

Deno.test("read_file shows an empty last line of a window", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(join(ws.dir, "a.txt"), "a\n\nc\n");
  const r = await call(readFileTool(), ws.env, { file_path: "a.txt", limit: 2 });
  assert.equal(r.content, "1 | a\n2 | \n[Showing lines 1-2 of 3. Use offset=3 to read more.]");
});
