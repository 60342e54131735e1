import assert from "node:assert/strict";
import { z } from "zod";
import { DefaultToolRegistry } from "./registry.ts";
import { defineTool, ok } from "./define.ts";
import { coreTools } from "./core.ts";
import { tempWorkspace } from "./test_util.ts";
import type { RegisteredTool } from "./types.ts";

const echo = defineTool({
  name: "echo",
  description: "Echo text",
  schema: z.object({ text: z.string(), times: z.number().int().min(1).optional() }),
  execute(args) {
    return Promise.resolve(ok(args.text.repeat(args.times ?? 1)));
  },
});

const signal = new AbortController().signal;

Deno.test("registry: definitions carry the JSON Schema derived from the zod schema", () => {
  const registry = new DefaultToolRegistry([echo]);
  const [definition] = registry.definitions();
  assert.equal(definition.name, "echo");
  assert.deepEqual(definition.parameters.required, ["text"]);
  assert.equal(definition.parameters.type, "object");
  assert.equal(definition.parameters.additionalProperties, false);
  assert.equal("$schema" in definition.parameters, false);
});

Deno.test("registry: core tools expose the spec's parameter names", () => {
  const registry = new DefaultToolRegistry(coreTools({ applyPatch: true }));
  assert.deepEqual(registry.names(), [
    "read_file",
    "write_file",
    "edit_file",
    "apply_patch",
    "shell",
    "grep",
    "glob",
  ]);
  const props = (name: string) =>
    Object.keys(registry.get(name)!.definition.parameters.properties as object);
  assert.deepEqual(props("read_file"), ["file_path", "offset", "limit"]);
  assert.deepEqual(props("edit_file"), ["file_path", "old_string", "new_string", "replace_all"]);
  assert.deepEqual(props("shell"), ["command", "timeout_ms", "description"]);
  assert.deepEqual(props("grep"), [
    "pattern",
    "path",
    "glob_filter",
    "case_insensitive",
    "max_results",
  ]);
  assert.deepEqual(props("glob"), ["pattern", "path"]);
  assert.deepEqual(props("apply_patch"), ["patch"]);
});

Deno.test("registry: an unknown tool is an error result naming the available tools", async () => {
  await using ws = await tempWorkspace();
  const r = await new DefaultToolRegistry([echo]).execute({ name: "nope", arguments: {} }, {
    env: ws.env,
    signal,
  });
  assert.equal(r.isError, true);
  assert.equal(r.content, "Unknown tool: nope. Available tools: echo");
});

Deno.test("registry: arguments are validated before execute, and errors name the field", async () => {
  await using ws = await tempWorkspace();
  let ran = false;
  const spy: RegisteredTool = { ...echo, execute: () => (ran = true, Promise.resolve(ok(""))) };
  const registry = new DefaultToolRegistry([spy]);
  const ctx = { env: ws.env, signal };
  const wrongType = await registry.execute({ name: "echo", arguments: { text: 5 } }, ctx);
  assert.match(
    wrongType.content,
    /invalid arguments for echo: text: Invalid input: expected string/,
  );
  const extra = await registry.execute({ name: "echo", arguments: { text: "a", bogus: 1 } }, ctx);
  assert.match(extra.content, /Unrecognized key.*bogus/);
  const badJson = await registry.execute({ name: "echo", arguments: "{not json" }, ctx);
  assert.match(badJson.content, /arguments are not valid JSON/);
  const array = await registry.execute({ name: "echo", arguments: [1] }, ctx);
  assert.match(array.content, /must be a JSON object/);
  assert.equal(ran, false);
  const fine = await new DefaultToolRegistry([echo]).execute({
    name: "echo",
    arguments: '{"text":"ab","times":2}',
  }, ctx);
  assert.deepEqual([fine.isError, fine.content], [false, "abab"]);
});

Deno.test("registry: a tool defined by plain JSON Schema is validated through it too", async () => {
  await using ws = await tempWorkspace();
  const plain: RegisteredTool = {
    definition: {
      name: "run_tests",
      description: "Run tests",
      parameters: {
        type: "object",
        properties: { filter: { type: "string" } },
        required: ["filter"],
      },
    },
    execute: (args) => Promise.resolve(ok(`ran ${args.filter}`)),
  };
  const registry = new DefaultToolRegistry([plain]);
  const bad = await registry.execute({ name: "run_tests", arguments: {} }, { env: ws.env, signal });
  assert.equal(bad.isError, true);
  assert.match(bad.content, /invalid arguments for run_tests: filter/);
  const good = await registry.execute({ name: "run_tests", arguments: { filter: "x" } }, {
    env: ws.env,
    signal,
  });
  assert.equal(good.content, "ran x");
});

Deno.test("registry: latest registration wins and unregister removes", () => {
  const registry = new DefaultToolRegistry([echo]);
  const replacement = defineTool({
    name: "echo",
    description: "Replaced",
    schema: z.object({}),
    execute: () => Promise.resolve(ok("")),
  });
  registry.register(replacement);
  assert.equal(registry.get("echo")!.definition.description, "Replaced");
  assert.equal(registry.names().length, 1);
  assert.equal(registry.unregister("echo"), true);
  assert.equal(registry.get("echo"), undefined);
  assert.throws(
    () => registry.register({ ...echo, definition: { ...echo.definition, name: "bad name" } }),
    /must match/,
  );
});

Deno.test("registry: a throwing tool becomes an error result", async () => {
  await using ws = await tempWorkspace();
  const boom = defineTool({
    name: "boom",
    description: "Throws",
    schema: z.object({}),
    execute: () => Promise.reject(new Error("kaput")),
  });
  const r = await new DefaultToolRegistry([boom]).execute({ name: "boom", arguments: {} }, {
    env: ws.env,
    signal,
  });
  assert.deepEqual([r.isError, r.content], [true, "Error in boom: kaput"]);
});

Deno.test("registry: a per-tool timeout aborts the tool's signal and returns an error", async () => {
  await using ws = await tempWorkspace();
  let sawAbort = false;
  const slow = defineTool({
    name: "slow",
    description: "Never finishes on its own",
    schema: z.object({}),
    execute: (_args, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          sawAbort = true;
          resolve(ok("late"));
        });
      }),
  });
  const registry = new DefaultToolRegistry([slow], { timeoutsMs: { slow: 50 } });
  const r = await registry.execute({ name: "slow", arguments: {} }, { env: ws.env, signal });
  assert.equal(r.isError, true);
  assert.match(r.content, /^Timeout: tool slow did not finish within its 50 ms timeout/);
  assert.equal(sawAbort, true);
});

Deno.test("registry: output is truncated per tool, with the full output kept beside it", async () => {
  await using ws = await tempWorkspace();
  const big = defineTool({
    name: "write_file", // write_file's default limit is 1000 characters, tail mode
    description: "Big output",
    schema: z.object({}),
    execute: () => Promise.resolve(ok("x".repeat(5000))),
  });
  const r = await new DefaultToolRegistry([big]).execute({ name: "write_file", arguments: {} }, {
    env: ws.env,
    signal,
  });
  assert.equal(r.truncated, true);
  assert.equal(r.fullContent.length, 5000);
  assert.match(
    r.content,
    /^\[WARNING: Tool output was truncated\. First 4000 characters were removed\./,
  );
  const overridden = await new DefaultToolRegistry([big], { outputLimits: { write_file: 10_000 } })
    .execute({ name: "write_file", arguments: {} }, { env: ws.env, signal });
  assert.equal(overridden.truncated, false);
});
