// bindCheck: a sandbox whose self-binds of masked files' directories went
// through a link (a directory swapped between the agent's check and bwrap's
// mounts) runs nothing; a sandbox built as asked runs the command. The swaps
// are made before bwrap starts, standing in for one made during its setup.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import {
  bindCheck,
  bwrapArgs,
  type BwrapPolicy,
  CLOSE_INHERITED_FDS,
  usableBwrap,
} from "./bwrap.ts";

const bwrap = await usableBwrap();
const needsBwrap = bwrap ? "" : " (needs bwrap: not run, bubblewrap is unusable here)";

/** A workspace under /tmp with `dir/f` masked, and a read-only directory under /var/tmp (not covered by the sandbox's /tmp). */
async function setup() {
  const ws = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-bwrap-" }));
  const ro = await Deno.realPath(await Deno.makeTempDir({ dir: "/var/tmp", prefix: "forge-ro-" }));
  await Deno.mkdir(join(ro, "dir"));
  // There already: bwrap itself would create a missing mask target, before any check can run.
  await Deno.writeTextFile(join(ro, "dir", "f"), "ro");
  const dir = join(ws, "a b'c", "d\\e");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "f"), "x");
  const policy: BwrapPolicy = {
    workspace: ws,
    cwd: ws,
    readOnlyPaths: [ro],
    maskedFiles: [join(dir, "f")],
  };
  const ids = new Map<string, string>();
  for (const d of [dir, join(ws, "a b'c")]) {
    const info = Deno.lstatSync(d);
    ids.set(d, `${info.dev}:${info.ino}`);
  }
  return { ws, ro, dir, policy, ids };
}

async function run(args: string[], script: string): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(bwrap!, {
    args: [...args, "--", "/bin/bash", "-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, out: text.decode(out.stdout) + text.decode(out.stderr) };
}

Deno.test({
  name: `bwrap: bindCheck lets a sandbox built as asked run its command${needsBwrap}`,
  ignore: !bwrap,
  async fn() {
    const { ws, ro, policy, ids } = await setup();
    try {
      const check = bindCheck(policy, ids);
      assert.notEqual(check, "");
      const { code, out } = await run(bwrapArgs(policy), CLOSE_INHERITED_FDS + check + "echo ran");
      assert.equal(out, "ran\n");
      assert.equal(code, 0);
      assert.equal(bindCheck({ ...policy, maskedFiles: [join(ws, "top")] }, ids), "");
    } finally {
      await Deno.remove(ws, { recursive: true });
      await Deno.remove(ro, { recursive: true });
    }
  },
});

Deno.test({
  name: `bwrap: bindCheck runs nothing when a bound directory became a link${needsBwrap}`,
  ignore: !bwrap,
  async fn() {
    const { ws, ro, dir, policy, ids } = await setup();
    try {
      const check = bindCheck(policy, ids);
      const attack = `echo pwned > ${ro}/dir/new; echo pwned > '${dir}/new2'`;
      // Source and destination through the link: the bind lands on the read-only dir.
      await Deno.remove(dir, { recursive: true });
      await Deno.symlink(relative(join(ws, "a b'c"), join(ro, "dir")), dir);
      const swapped = await run(bwrapArgs(policy), CLOSE_INHERITED_FDS + check + attack);
      assert.equal(swapped.code, 125, swapped.out);
      assert.match(swapped.out, /swapped for a link.*not run/);
      // Only the source through a link (the destination looked up a moment before):
      // the read-only dir shown read-write at the directory's own path.
      await Deno.remove(dir);
      await Deno.mkdir(dir);
      const args = bwrapArgs(policy);
      const at = args.findIndex((arg, i) => arg === "--bind" && args[i + 2] === dir);
      assert.ok(at > 0);
      args[at + 1] = join(ro, "dir");
      const sourced = await run(args, CLOSE_INHERITED_FDS + check + attack);
      assert.equal(sourced.code, 125, sourced.out);
      assert.deepEqual([...Deno.readDirSync(join(ro, "dir"))].map((e) => e.name), ["f"]);
      assert.equal(await Deno.readTextFile(join(ro, "dir", "f")), "ro");
    } finally {
      await Deno.remove(ws, { recursive: true });
      await Deno.remove(ro, { recursive: true });
    }
  },
});

Deno.test({
  name: `bwrap: a read-only path under /tmp is visible in the sandbox, and read-only${needsBwrap}`,
  ignore: !bwrap,
  async fn() {
    const ws = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-bwrap-" }));
    const ro = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-ro-" }));
    try {
      await Deno.writeTextFile(join(ro, "notes.txt"), "visible");
      const args = bwrapArgs({ workspace: ws, cwd: ws, readOnlyPaths: [ro] });
      const { out } = await run(args, `cat ${ro}/notes.txt; echo; touch ${ro}/new 2>&1`);
      assert.match(out, /^visible\n/);
      assert.match(out, /Read-only file system/);
      assert.equal(await Deno.lstat(join(ro, "new")).catch(() => undefined), undefined);
    } finally {
      await Deno.remove(ws, { recursive: true });
      await Deno.remove(ro, { recursive: true });
    }
  },
});
