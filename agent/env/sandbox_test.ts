// The sandboxed confined environment: what it reports, how it fails closed,
// and how its file server behaves. Cases that need bubblewrap say so by name.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfinedEnvironment } from "./confined.ts";
import { usableBwrap } from "./bwrap.ts";
import {
  confinementOf,
  defaultEnvironment,
  describeConfinement,
  UNCONFINED,
} from "./confinement.ts";
import { LocalExecutionEnvironment } from "./local.ts";
import { decodeLine, encodeLine } from "./file_service.ts";
import { EnvError } from "./types.ts";
import { DefaultToolRegistry } from "../tools/registry.ts";
import { coreTools } from "../tools/core.ts";

const hasBwrap = (await usableBwrap()) !== undefined;
const needsBwrap = hasBwrap ? "" : " (needs bwrap: not run, bubblewrap is unusable here)";

async function tempDir(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-sandbox-" }));
}

Deno.test("sandbox none: the shell is refused with a reason and the way to opt in", async () => {
  const dir = await tempDir();
  await using env = new ConfinedEnvironment({ workspace: dir, sandbox: "none" });
  await env.initialize();
  assert.deepEqual(env.confinement(), {
    sandbox: "none",
    files: "deno-permissions",
    shell: "unavailable",
    network: "none",
    shellNetwork: "none",
    allowedHosts: [],
  });
  const error = await env.execCommand({ command: "true", timeoutMs: 1000 }).catch((e) => e);
  assert.ok(error instanceof EnvError && error.code === "PermissionDenied");
  assert.match(error.message, /no OS sandbox .* unconfinedShell: true/);
  const registry = new DefaultToolRegistry(coreTools());
  const result = await registry.execute(
    { name: "shell", arguments: { command: "ls" } },
    { env, signal: new AbortController().signal },
  );
  assert.equal(result.isError, true);
  assert.match(result.content, /^PermissionDenied: permission denied: shell: no OS sandbox/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sandbox none + unconfinedShell: the shell runs and the confinement says so", async () => {
  const dir = await tempDir();
  await using env = new ConfinedEnvironment({
    workspace: dir,
    sandbox: "none",
    unconfinedShell: true,
  });
  await env.initialize();
  assert.equal(env.confinement().shell, "unconfined");
  assert.match(describeConfinement(env.confinement()), /UNCONFINED shell \(opted in\)/);
  assert.equal((await env.execCommand({ command: "echo hi", timeoutMs: 5000 })).stdout, "hi\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a workspace whose path has a comma is refused: Deno's permission flags would split it", async () => {
  const parent = await tempDir();
  await Deno.mkdir(`${parent}/a,b`);
  const env = new ConfinedEnvironment({ workspace: `${parent}/a,b`, sandbox: "none" });
  const error = await env.initialize().catch((e) => e);
  assert.ok(error instanceof EnvError && error.code === "InvalidArgument", String(error));
  assert.match(error.message, /contains a comma/);
  await Deno.remove(parent, { recursive: true });
});

Deno.test("confinementOf: a local environment is unconfined", () => {
  assert.deepEqual(confinementOf(new LocalExecutionEnvironment()), UNCONFINED);
});

Deno.test("file tools refuse to read a file with several hard links, in every mode", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(join(dir, "a.txt"), "linked\n");
  await Deno.link(join(dir, "a.txt"), join(dir, "b.txt"));
  for (const sandbox of hasBwrap ? ["none", "bwrap"] as const : ["none"] as const) {
    await using env = new ConfinedEnvironment({ workspace: dir, sandbox });
    await env.initialize();
    const error = await env.readFile("a.txt").catch((e) => e);
    assert.ok(error instanceof EnvError && error.code === "PermissionDenied", String(error));
    assert.match(error.message, /has 2 hard links/);
    assert.deepEqual((await env.grep("linked", ".")).matches, [], "grep skips it");
    // Writing replaces the name; the other name keeps its content.
    await env.writeFile("a.txt", "new\n");
    assert.equal(await Deno.readTextFile(join(dir, "b.txt")), "linked\n");
    await Deno.remove(join(dir, "a.txt"));
    await Deno.link(join(dir, "b.txt"), join(dir, "a.txt"));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the file server's codec carries bytes and newlines in one line", () => {
  const message = { id: 3, ok: true, value: { text: "a\nb", data: new Uint8Array([0, 255, 10]) } };
  const line = encodeLine(message);
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.deepEqual(decodeLine(line.slice(0, -1)), message);
  assert.deepEqual(decodeLine(encodeLine({ a: null }).trim()), { a: null });
});

Deno.test({
  name: `sandbox bwrap: the file server lacks env, run, ffi, net and outside access${needsBwrap}`,
  ignore: !hasBwrap,
  async fn() {
    const dir = await tempDir();
    await using env = await defaultEnvironment(dir);
    assert.equal(env.sandboxed, true);
    assert.deepEqual(env.confinement(), {
      sandbox: "bwrap",
      files: "sandbox",
      shell: "sandbox",
      network: "none",
      shellNetwork: "none",
      allowedHosts: [],
    });
    assert.ok(Object.values(await env.selfCheck()).every((denied) => denied));
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: `sandbox bwrap: a killed file server is replaced and later calls work${needsBwrap}`,
  ignore: !hasBwrap,
  async fn() {
    const dir = await tempDir();
    await Deno.writeTextFile(join(dir, "a.txt"), "a\n");
    await using env = await defaultEnvironment(dir);
    const ps = await new Deno.Command("pgrep", { args: ["-f", `allow-write=${dir}`] }).output();
    const pids = new TextDecoder().decode(ps.stdout).trim().split("\n").filter(Boolean);
    assert.ok(pids.length > 0, "the file server runs as a process");
    for (const pid of pids) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* gone with the one killed before it */ }
    }
    await new Promise((r) => setTimeout(r, 200));
    const first = await env.readFile("a.txt").catch((e) => e);
    if (first instanceof EnvError) assert.equal(first.code, "Io");
    const again = await env.readFile("a.txt");
    assert.equal(again.kind === "text" && again.text, "a\n");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: `sandbox bwrap: a command's output streams out, and limits name themselves${needsBwrap}`,
  ignore: !hasBwrap,
  async fn() {
    const dir = await tempDir();
    await using env = await defaultEnvironment(dir, { limits: { maxFileBytes: 4096 } });
    const seen: string[] = [];
    const result = await env.execCommand({
      command: "echo start; head -c 100000 /dev/zero > big; echo end",
      timeoutMs: 10_000,
      onOutput: (chunk) => seen.push(chunk.text),
    });
    assert.ok(seen.join("").startsWith("start\n"));
    assert.equal(result.limitsHit?.[0]?.kind, "file_size");
    assert.equal((await Deno.stat(join(dir, "big"))).size, 4096);
    await Deno.remove(dir, { recursive: true });
  },
});
