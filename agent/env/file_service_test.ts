// The file service answers one request at a time, reads at once when nothing else runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { FileService } from "./file_service.ts";
import type { FileContent } from "./types.ts";

async function service() {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-file-service-" }));
  return {
    root,
    service: new FileService({ op: "init", root, cwd: root }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("file service: a read while nothing else runs is answered at once, not as a promise", async () => {
  await using s = await service();
  await Deno.writeTextFile(join(s.root, "a.txt"), "one\ntwo\n");
  const response = s.service.handle({ id: 7, op: "readFile", args: ["a.txt", 2, null] });
  assert.ok(!(response instanceof Promise));
  assert.equal(response.id, 7);
  assert.ok(response.ok);
  const content = response.value as FileContent;
  assert.equal(content.kind === "text" && content.text, "two");
  const missing = s.service.handle({ id: 8, op: "fileExists", args: ["nope.txt"] });
  assert.deepEqual(missing, { id: 8, ok: true, value: false });
});

Deno.test("file service: a refused read is an error answer with the code, not a throw", async () => {
  await using s = await service();
  const response = s.service.handle({ id: 3, op: "readFile", args: ["../outside.txt"] });
  assert.ok(!(response instanceof Promise) && !response.ok);
  assert.equal(response.error.code, "PermissionDenied");
});

Deno.test("file service: a read sent behind a write waits for it and sees what it wrote", async () => {
  await using s = await service();
  await Deno.writeTextFile(join(s.root, "a.txt"), "old\n");
  const write = s.service.handle({ id: 1, op: "writeFile", args: ["a.txt", "new\n"] });
  const read = s.service.handle({ id: 2, op: "readFile", args: ["a.txt", null, null] });
  assert.ok(write instanceof Promise && read instanceof Promise, "queued behind the write");
  const answered: number[] = [];
  const [w, r] = await Promise.all([
    Promise.resolve(write).then((x) => (answered.push(x.id), x)),
    Promise.resolve(read).then((x) => (answered.push(x.id), x)),
  ]);
  assert.deepEqual(answered, [1, 2]);
  assert.ok(w.ok && r.ok);
  assert.equal(
    (r.value as FileContent).kind === "text" && (r.value as { text: string }).text,
    "new\n",
  );
  // Once the queue has drained, reads are answered at once again.
  assert.ok(!(s.service.handle({ id: 3, op: "readFile", args: ["a.txt"] }) instanceof Promise));
});

Deno.test("file service: an unknown operation is an Unsupported answer", async () => {
  await using s = await service();
  const response = await s.service.handle({ id: 4, op: "chmod", args: [] });
  assert.ok(!response.ok);
  assert.equal(response.error.code, "Unsupported");
});
