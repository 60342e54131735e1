// Escape attempts against ConfinedEnvironment: every one must be refused, and the refusal is asserted.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfinedEnvironment } from "./confined.ts";
import { EnvError } from "./types.ts";
import { findBwrap, usableBwrap } from "./bwrap.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { coreTools } from "../tools/core.ts";

const hasBwrap = findBwrap() !== undefined && (await usableBwrap()) !== undefined;

/** A workspace inside a parent dir that also holds a "secret" file outside the workspace. */
async function setup(options: Partial<ConstructorParameters<typeof ConfinedEnvironment>[0]> = {}) {
  const parent = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-confine-" }));
  const workspace = join(parent, "ws");
  await Deno.mkdir(workspace);
  const secret = join(parent, "secret.txt");
  await Deno.writeTextFile(secret, "TOP SECRET\n");
  await Deno.writeTextFile(join(workspace, "inside.txt"), "hello\n");
  // The shell tests here exercise the command-text filter of the opted-in unconfined shell.
  const env = new ConfinedEnvironment({
    workspace,
    sandbox: "none",
    unconfinedShell: true,
    killGraceMs: 200,
    ...options,
  });
  await env.initialize();
  return {
    parent,
    workspace,
    secret,
    env,
    async [Symbol.asyncDispose]() {
      await env.close();
      await Deno.remove(parent, { recursive: true });
    },
  };
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<EnvError> {
  const error = await promise.then(
    () => assert.fail("the operation was allowed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof EnvError, `expected an EnvError, got ${error}`);
  assert.equal(error.code, "PermissionDenied", error.message);
  assert.match(error.message, pattern);
  return error;
}

Deno.test("confined: the worker itself lacks env, run, ffi, /proc and outside read/write", async () => {
  await using t = await setup();
  assert.deepEqual(await t.env.selfCheck(), {
    envDenied: true,
    runDenied: true,
    readOutsideDenied: true,
    writeOutsideDenied: true,
    procDenied: true,
    ffiDenied: true,
    netDenied: true,
  });
});

Deno.test("confined: a file inside the workspace can be read and written", async () => {
  await using t = await setup();
  const file = await t.env.readFile("inside.txt");
  assert.equal(file.kind === "text" && file.text, "hello\n");
  await t.env.writeFile("sub/new.txt", "x");
  assert.equal(await Deno.readTextFile(join(t.workspace, "sub/new.txt")), "x");
});

Deno.test("confined: ../ traversal is refused for read, write, delete and move", async () => {
  await using t = await setup();
  await refused(t.env.readFile("../secret.txt"), /\.\.\/secret\.txt: outside the workspace/);
  await refused(t.env.writeFile("../evil.txt", "x"), /outside the workspace/);
  await refused(t.env.deleteFile("../secret.txt"), /outside the workspace/);
  await refused(t.env.moveFile("inside.txt", "../moved.txt"), /outside the workspace/);
  await refused(t.env.readFile("sub/../../secret.txt"), /outside the workspace/);
  assert.equal(await Deno.readTextFile(t.secret), "TOP SECRET\n");
  await assert.rejects(Deno.stat(join(t.parent, "evil.txt")), Deno.errors.NotFound);
});

Deno.test("confined: absolute paths outside the workspace are refused", async () => {
  await using t = await setup();
  await refused(t.env.readFile(t.secret), /outside the workspace/);
  await refused(t.env.readFile("/etc/hostname"), /\/etc\/hostname: outside the workspace/);
  await refused(t.env.grep("SECRET", t.parent), /outside the workspace/);
  await refused(t.env.glob("*", "/etc"), /outside the workspace/);
  await refused(t.env.listDirectory("/"), /outside the workspace/);
  await refused(t.env.fileExists("/etc/passwd"), /outside the workspace/);
});

Deno.test("confined: /proc/self/environ and other /proc/self files are refused", async () => {
  await using t = await setup();
  await refused(t.env.readFile("/proc/self/environ"), /\/proc\/self\/environ/);
  await refused(t.env.readFile("/proc/self/cmdline"), /outside the workspace/);
  await refused(t.env.readFile("/proc/self/root/etc/hostname"), /outside the workspace/);
});

Deno.test("confined: a symlink inside the workspace pointing out is refused for read and write", async () => {
  await using t = await setup();
  await Deno.symlink(t.secret, join(t.workspace, "link.txt"));
  await Deno.symlink(t.parent, join(t.workspace, "linkdir"));
  await refused(
    t.env.readFile("link.txt"),
    /link\.txt: resolves through a symbolic link to .*secret\.txt/,
  );
  await refused(t.env.writeFile("link.txt", "overwritten"), /symbolic link/);
  await refused(t.env.readFile("linkdir/secret.txt"), /symbolic link/);
  await refused(t.env.writeFile("linkdir/new.txt", "x"), /symbolic link/);
  await refused(t.env.grep("SECRET", "linkdir"), /symbolic link/);
  assert.equal(await Deno.readTextFile(t.secret), "TOP SECRET\n");
  await assert.rejects(Deno.stat(join(t.parent, "new.txt")), Deno.errors.NotFound);
  // A recursive search never follows the links out either.
  const found = await t.env.grep("SECRET", ".");
  assert.deepEqual(found.matches, []);
});

Deno.test("confined: a dangling symlink pointing out cannot be used to create a file outside", async () => {
  await using t = await setup();
  const target = join(t.parent, "created-outside.txt");
  await Deno.symlink(target, join(t.workspace, "dangling"));
  await refused(t.env.writeFile("dangling", "x"), /dangling symbolic link/);
  await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
});

Deno.test("confined: deleting a symlink deletes the link, never its outside target", async () => {
  await using t = await setup();
  await Deno.symlink(t.secret, join(t.workspace, "link.txt"));
  await t.env.deleteFile("link.txt");
  assert.equal(await Deno.readTextFile(t.secret), "TOP SECRET\n");
  await assert.rejects(Deno.lstat(join(t.workspace, "link.txt")), Deno.errors.NotFound);
});

Deno.test("confined: a working directory outside the workspace is refused at initialize", async () => {
  const parent = await Deno.realPath(await Deno.makeTempDir());
  await Deno.mkdir(join(parent, "ws"));
  try {
    const env = new ConfinedEnvironment({
      workspace: join(parent, "ws"),
      workingDirectory: "..",
      sandbox: "none",
    });
    await refused(env.initialize(), /outside the workspace/);
    await env.close();
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("confined: network reaches an allowed loopback port and is refused elsewhere", async () => {
  await using allowedServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("allowed"),
  );
  await using otherServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("other"),
  );
  const allowed = `127.0.0.1:${allowedServer.addr.port}`;
  await using t = await setup({ allowedHosts: [allowed] });
  const ok = await t.env.fetchUrl({ url: `http://${allowed}/` });
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "allowed");
  await refused(
    t.env.fetchUrl({ url: `http://127.0.0.1:${otherServer.addr.port}/` }),
    new RegExp(`127\\.0\\.0\\.1:${otherServer.addr.port} is not allowed`),
  );
  await refused(
    t.env.fetchUrl({ url: `http://localhost:${allowedServer.addr.port}/` }),
    /not allowed/,
  );
  await refused(t.env.fetchUrl({ url: "file:///etc/hostname" }), /only http and https/);
});

Deno.test("confined: without allowed hosts the worker has no network at all", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("x"),
  );
  await using t = await setup();
  await refused(
    t.env.fetchUrl({ url: `http://127.0.0.1:${server.addr.port}/` }),
    /not allowed \(allowed: none\)/,
  );
});

Deno.test("confined shell: an unlisted program is refused and never runs", async () => {
  await using t = await setup();
  const marker = join(t.workspace, "ran");
  await refused(
    t.env.execCommand({ command: `python3 -c 'open("ran","w")'`, timeoutMs: 5000 }),
    /program python3 is not on the allowlist/,
  );
  await refused(
    t.env.execCommand({ command: "ls | xargs touch", timeoutMs: 5000 }),
    /program xargs is not on the allowlist/,
  );
  await refused(
    t.env.execCommand({ command: "/usr/bin/touch ran", timeoutMs: 5000 }),
    /\/usr\/bin\/touch is not on the allowlist/,
  );
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
});

Deno.test("confined shell: constructs that cannot be checked are refused", async () => {
  await using t = await setup();
  const cases: [string, RegExp][] = [
    ["echo $(cat ../secret.txt)", /substitution/],
    ["echo `id`", /command substitution/],
    ['echo "$HOME"', /expansion inside double quotes/],
    ["eval ls", /eval runs arbitrary code/],
    ["ls; (cat x)", /subshells/],
    ["sleep 10 &", /background jobs/],
    ["cat <<EOF\nx\nEOF", /here-documents/],
    ["LD_PRELOAD=x ls", /variable assignments/],
    ["for f in a; do ls; done", /keyword for/],
    ["cat ~/.ssh/id_rsa", /home-directory expansion/],
    ["cat .?/secret.txt", /could match/],
    ["find . -exec rm {} ;", /subshells|would let find/],
    ["find . -execdir ls", /would let find run programs/],
  ];
  for (const [command, pattern] of cases) {
    await refused(t.env.execCommand({ command, timeoutMs: 5000 }), pattern);
  }
});

Deno.test("confined shell: paths and redirections outside the workspace are refused", async () => {
  await using t = await setup();
  await Deno.symlink(t.secret, join(t.workspace, "link.txt"));
  const cases: [string, RegExp][] = [
    ["cat ../secret.txt", /\.\.\/secret\.txt is outside the workspace/],
    [`cat ${t.secret}`, /outside the workspace/],
    ["cat /etc/hostname", /outside the workspace/],
    ["echo x > ../evil.txt", /redirection target \.\.\/evil\.txt is outside/],
    ["echo x >> /tmp/evil.txt", /outside the workspace/],
    ["cat link.txt", /link\.txt leads through a symbolic link/],
    ["grep --file=/etc/passwd x", /\/etc\/passwd is outside/],
    ["cd .. && cat secret.txt", /\.\. is outside/],
  ];
  for (const [command, pattern] of cases) {
    await refused(t.env.execCommand({ command, timeoutMs: 5000 }), pattern);
  }
  await assert.rejects(Deno.stat(join(t.parent, "evil.txt")), Deno.errors.NotFound);
});

Deno.test("confined shell: a listed program runs in the workspace with a clean environment", async () => {
  await using t = await setup();
  const result = await t.env.execCommand({
    command: "pwd && cat inside.txt | wc -l && echo done > out.txt 2>/dev/null",
    timeoutMs: 10_000,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, `${t.workspace}\n1\n`);
  assert.equal(await Deno.readTextFile(join(t.workspace, "out.txt")), "done\n");
  await refused(
    t.env.execCommand({ command: "ls", timeoutMs: 5000, env: { LD_PRELOAD: "/x.so" } }),
    /LD_PRELOAD may not be set/,
  );
});

Deno.test("confined shell: a working directory outside the workspace is refused", async () => {
  await using t = await setup();
  await refused(
    t.env.execCommand({ command: "ls", timeoutMs: 5000, workingDir: t.parent }),
    /outside the workspace/,
  );
});

Deno.test("confined tools: a refusal reaches the model as an error result, not a crash", async () => {
  await using t = await setup();
  const registry = new DefaultToolRegistry(coreTools({ applyPatch: true }));
  const ctx = { env: t.env, signal: new AbortController().signal };
  const read = await registry.execute({
    name: "read_file",
    arguments: { file_path: "../secret.txt" },
  }, ctx);
  assert.equal(read.isError, true);
  assert.match(
    read.content,
    /^PermissionDenied: permission denied: \.\.\/secret\.txt: outside the workspace/,
  );
  const shell = await registry.execute({
    name: "shell",
    arguments: { command: "curl http://example.com" },
  }, ctx);
  assert.equal(shell.isError, true);
  assert.match(shell.content, /^PermissionDenied: .*program curl is not on the allowlist/);
  const patch = await registry.execute({
    name: "apply_patch",
    arguments: { patch: "*** Begin Patch\n*** Add File: ../evil.txt\n+x\n*** End Patch" },
  }, ctx);
  assert.equal(patch.isError, true);
  assert.match(patch.content, /outside the workspace/);
  await assert.rejects(Deno.stat(join(t.parent, "evil.txt")), Deno.errors.NotFound);
});

Deno.test({
  name: "confined shell in bwrap: a listed program cannot read outside the workspace (needs bwrap)",
  ignore: !hasBwrap,
  async fn() {
    await using t = await setup({ sandbox: "bwrap", allowedPrograms: ["cat", "ls", "sh"] });
    assert.equal(t.env.sandboxed, true);
    // The policy lets `sh -c` through only because it is listed here; bwrap is what stops it.
    const hostname = await t.env.execCommand({
      command: "cat /etc/hostname || true",
      timeoutMs: 10_000,
    }).catch((e) => e);
    assert.ok(hostname instanceof EnvError, "the policy refuses the absolute path before bwrap");
    const viaSh = await t.env.execCommand({
      command: "sh -c 'cat /etc/hostname; cat ../secret.txt; ls /home'",
      timeoutMs: 10_000,
    });
    assert.notEqual(viaSh.exitCode, 0);
    assert.match(viaSh.stderr, /\/etc\/hostname: No such file or directory/);
    assert.match(viaSh.stderr, /secret\.txt: No such file or directory/);
    assert.doesNotMatch(viaSh.stdout, /TOP SECRET/);
    const inside = await t.env.execCommand({ command: "cat inside.txt", timeoutMs: 10_000 });
    assert.equal(inside.stdout, "hello\n");
  },
});

Deno.test({
  name: "confined shell in bwrap: no network, no host environment, own pid namespace (needs bwrap)",
  ignore: !hasBwrap,
  async fn() {
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("x"),
    );
    const probe =
      `bash -c 'cat /proc/self/environ | tr "\\0" "\\n"; echo procs=$(ls /proc | grep -c "^[0-9]"); ` +
      `(exec 3<>/dev/tcp/127.0.0.1/${server.addr.port}) 2>/dev/null && echo net=yes || echo net=no'`;
    await using t = await setup({ sandbox: "bwrap", allowedPrograms: ["bash"] });
    const r = await t.env.execCommand({ command: probe, timeoutMs: 10_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /DENO|npm_|_TOKEN|_API_KEY|_SECRET/);
    assert.match(r.stdout, new RegExp(`HOME=${t.workspace}`));
    assert.match(r.stdout, /net=no/);
    const procs = Number(/procs=(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(procs > 0 && procs < 10, `a fresh pid namespace shows few processes, saw ${procs}`);
    // The same probe with the network shared does connect: the refusal above is the namespace's doing.
    await using shared = await setup({
      sandbox: "bwrap",
      allowedPrograms: ["bash"],
      shellNetwork: true,
    });
    const s = await shared.env.execCommand({ command: probe, timeoutMs: 10_000 });
    assert.match(s.stdout, /net=yes/);
  },
});

Deno.test({
  name:
    "confined shell in bwrap: a timeout kills the sandboxed command and its children (needs bwrap)",
  ignore: !hasBwrap,
  async fn() {
    await using t = await setup({ sandbox: "bwrap", allowedPrograms: ["sleep", "echo"] });
    const started = performance.now();
    const r = await t.env.execCommand({ command: "echo go; sleep 37 | sleep 38", timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.stdout, "go\n");
    assert.ok(performance.now() - started < 5000);
    // Nothing of the sandbox is left on the host.
    let left = "";
    for (let i = 0; i < 50; i++) {
      const ps = await new Deno.Command("ps", { args: ["-eo", "stat=,args="] }).output();
      left = new TextDecoder().decode(ps.stdout).split("\n")
        .filter((l) => /sleep 3[78]$/.test(l) && !l.trim().startsWith("Z")).join("\n");
      if (!left) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(left, "", "sandboxed sleeps survived the timeout");
  },
});

Deno.test("why the real-path check exists: Deno's read permission alone follows a link out of the workspace", async () => {
  await using t = await setup();
  await Deno.symlink(t.secret, join(t.workspace, "link.txt"));
  const code = `self.onmessage = () => {
    try { self.postMessage(Deno.readTextFileSync(${
    JSON.stringify(join(t.workspace, "link.txt"))
  })); }
    catch (e) { self.postMessage("refused: " + e.name); }
  };`;
  const url = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const worker = new Worker(url, {
    type: "module",
    deno: {
      permissions: {
        read: [t.workspace],
        write: false,
        net: false,
        env: false,
        run: false,
        ffi: false,
        sys: false,
        import: false,
      },
    },
  });
  try {
    const answer = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage(null);
    });
    // If a future Deno refuses this, the guard is belt and braces; this test then documents the change.
    assert.equal(answer, "TOP SECRET\n");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
  // The confined environment refuses the same read.
  await refused(t.env.readFile("link.txt"), /symbolic link/);
});
