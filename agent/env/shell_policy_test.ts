import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkCommand,
  DEFAULT_ALLOWED_PROGRAMS,
  ShellPolicyError,
  tokenize,
} from "./shell_policy.ts";

async function policy() {
  const parent = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-policy-" }));
  const workspace = join(parent, "ws");
  await Deno.mkdir(join(workspace, "src"), { recursive: true });
  return {
    policy: { workspace, cwd: workspace, allowedPrograms: DEFAULT_ALLOWED_PROGRAMS },
    parent,
    workspace,
    async [Symbol.asyncDispose]() {
      await Deno.remove(parent, { recursive: true });
    },
  };
}

Deno.test("shell policy accepts pipelines, lists and in-workspace redirections of listed programs", async () => {
  await using p = await policy();
  const accepted: [string, string[]][] = [
    ["ls -la", ["ls"]],
    ["cat src/a.ts | grep -n 'x' | wc -l", ["cat", "grep", "wc"]],
    ["mkdir -p out && echo hi > out/x.txt 2>&1; cat out/x.txt || true", [
      "mkdir",
      "echo",
      "cat",
      "true",
    ]],
    ['grep -r "needle" . 2>/dev/null', ["grep"]],
    ["find . -name '*.ts' -type f", ["find"]],
    ["[ -f x ] && echo yes", ["[", "echo"]],
    ["! test -d src", ["test"]],
    ["echo 'single $quoted `text`'", ["echo"]],
    ["ls src/*.ts", ["ls"]],
    ["echo a\\\nb", ["echo"]],
  ];
  for (const [command, programs] of accepted) {
    assert.deepEqual(checkCommand(p.policy, command), programs, command);
  }
});

Deno.test("shell policy tokenizer removes quotes and keeps operators apart", () => {
  const tokens = tokenize(`echo "a b" 'c'd e\\ f 2>&1 >>out|wc`);
  assert.deepEqual(tokens.map((t) => t.value), [
    "echo",
    "a b",
    "cd",
    "e f",
    "2>&",
    "1",
    ">>",
    "out",
    "|",
    "wc",
  ]);
});

Deno.test("shell policy refuses an empty command and redirections without a target", async () => {
  await using p = await policy();
  assert.throws(() => checkCommand(p.policy, "   "), /runs no program/);
  assert.throws(() => checkCommand(p.policy, "echo x >"), /has no target/);
  assert.throws(() => checkCommand(p.policy, "echo x >&file"), /needs a descriptor number/);
  assert.throws(() => checkCommand(p.policy, "echo 'open"), /unterminated single quote/);
  assert.throws(() => checkCommand(p.policy, "echo x > *.txt"), /is a pattern/);
});

Deno.test("shell policy errors name the refused program or path", async () => {
  await using p = await policy();
  const error = (() => {
    try {
      checkCommand(p.policy, "ls && curl http://x");
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ShellPolicyError);
  assert.equal(error.subject, "curl");
  assert.equal(error.code, "PermissionDenied");
});

Deno.test("shell policy refuses a bare name that is a symlink leading out", async () => {
  await using p = await policy();
  await Deno.writeTextFile(join(p.parent, "secret"), "s");
  await Deno.symlink(join(p.parent, "secret"), join(p.workspace, "innocent"));
  assert.throws(
    () => checkCommand(p.policy, "cat innocent"),
    /innocent leads through a symbolic link/,
  );
  await Deno.symlink(p.parent, join(p.workspace, "up"));
  assert.throws(
    () => checkCommand(p.policy, "echo x > up/new.txt"),
    /leads through a symbolic link/,
  );
});

Deno.test("shell policy never allows eval-like builtins, even when listed", async () => {
  await using p = await policy();
  const listed = { ...p.policy, allowedPrograms: ["eval", "source", "ls"] };
  assert.throws(() => checkCommand(listed, "eval ls"), /never allowed/);
  assert.throws(() => checkCommand(listed, "source x"), /never allowed/);
});

Deno.test("shell policy expands globs and refuses one that reaches a link leading out", async () => {
  await using p = await policy();
  await Deno.writeTextFile(join(p.workspace, "src/a.ts"), "");
  assert.deepEqual(checkCommand(p.policy, "cat src/*.ts */a.ts"), ["cat"]);
  await Deno.writeTextFile(join(p.parent, "secret.txt"), "s");
  await Deno.symlink(p.parent, join(p.workspace, "up"));
  assert.throws(
    () => checkCommand(p.policy, "cat */secret.txt"),
    /up\/secret\.txt leads through a symbolic link/,
  );
  await Deno.symlink(join(p.parent, "secret.txt"), join(p.workspace, "src/leak.ts"));
  assert.throws(
    () => checkCommand(p.policy, "cat src/*.ts"),
    /pattern src\/\*\.ts matches .*leak\.ts/,
  );
});

Deno.test("shell policy refuses link-following and file-list options and paths attached to options", async () => {
  await using p = await policy();
  const cases: [string, RegExp][] = [
    ["grep -R x .", /would let grep run programs, follow links/],
    ["grep -rRn x .", /would let grep/],
    ["cp -L a b", /would let cp/],
    ["find -L . -name x", /would let find/],
    ["du -L .", /would let du/],
    ["sort --files0-from=list", /reads file names/],
    ["grep -f/etc/passwd x", /\/etc\/passwd is outside/],
    ["sort -o../out x", /\.\.\/out is outside/],
  ];
  for (const [command, pattern] of cases) {
    assert.throws(() => checkCommand(p.policy, command), pattern, command);
  }
  assert.deepEqual(checkCommand(p.policy, "grep -rn x ."), ["grep"]);
});
