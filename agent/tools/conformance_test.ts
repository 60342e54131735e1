// Conformance of the core tools to the coding-agent-loop spec (§3.3, §3.4, §5, Appendix A),
// through the public API only (`@forge/agent/tools`, `@forge/agent/env`), as an outside suite
// would run it: every call goes through a registry, as a session's would.
import assert from "node:assert/strict";
import {
  applyPatchTool,
  coreTools,
  DefaultToolRegistry,
  editFileTool,
  readFileTool,
  shellTool,
  type ToolDefinition,
  type ToolSettings,
  truncateChars,
  truncateLines,
} from "./mod.ts";
import type { ExecRequest, ExecResult, ExecutionEnvironment } from "../env/mod.ts";
import { call, tempWorkspace } from "./test_util.ts";

const signal = new AbortController().signal;

function definition(name: string): ToolDefinition {
  const found = coreTools({ applyPatch: true }).find((t) => t.definition.name === name);
  assert.ok(found, `core tool ${name}`);
  return found.definition;
}

/** The spec's parameter tables (§3.3, §3.4): name → [type, required]. */
const SPEC_TOOLS: Record<
  string,
  { description: string; params: Record<string, [string, boolean]> }
> = {
  read_file: {
    description: "Read a file from the filesystem. Returns line-numbered content.",
    params: { file_path: ["string", true], offset: ["integer", false], limit: ["integer", false] },
  },
  write_file: {
    description: "Write content to a file. Creates the file and parent directories if needed.",
    params: { file_path: ["string", true], content: ["string", true] },
  },
  edit_file: {
    description: "Replace an exact string occurrence in a file.",
    params: {
      file_path: ["string", true],
      old_string: ["string", true],
      new_string: ["string", true],
      replace_all: ["boolean", false],
    },
  },
  shell: {
    description: "Execute a shell command. Returns stdout, stderr, and exit code.",
    params: {
      command: ["string", true],
      timeout_ms: ["integer", false],
      description: ["string", false],
    },
  },
  grep: {
    description: "Search file contents using regex patterns.",
    params: {
      pattern: ["string", true],
      path: ["string", false],
      glob_filter: ["string", false],
      case_insensitive: ["boolean", false],
      max_results: ["integer", false],
    },
  },
  glob: {
    description: "Find files matching a glob pattern.",
    params: { pattern: ["string", true], path: ["string", false] },
  },
  apply_patch: {
    description: "Apply code changes using the patch format. Supports creating, deleting, " +
      "and modifying files in a single operation.",
    params: { patch: ["string", true] },
  },
};

for (const [name, spec] of Object.entries(SPEC_TOOLS)) {
  Deno.test(`spec §3.3: ${name} has the spec's parameters, types, required set and description`, () => {
    const def = definition(name);
    assert.equal(def.parameters.type, "object");
    const properties = def.parameters.properties as Record<string, { type: string }>;
    assert.deepEqual(Object.keys(properties).sort(), Object.keys(spec.params).sort());
    for (const [param, [type]] of Object.entries(spec.params)) {
      assert.equal(properties[param].type, type, `${name}.${param} type`);
    }
    const required = Object.entries(spec.params).filter(([, [, r]]) => r).map(([p]) => p);
    assert.deepEqual([...(def.parameters.required as string[])].sort(), required.sort());
    // Our descriptions may say more, but they start with the spec's own sentence(s).
    assert.ok(
      def.description.startsWith(spec.description),
      `${name} description ${JSON.stringify(def.description)}`,
    );
    for (const [param, schema] of Object.entries(properties)) {
      assert.ok((schema as { description?: string }).description, `${name}.${param} described`);
    }
  });
}

// --- edit_file -------------------------------------------------------------------------------

Deno.test("spec §3.3 edit_file: an exact match is replaced once and the count is reported", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/a.ts`, "const a = 1;\nconst b = 2;\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: "a.ts",
    old_string: "const b = 2;",
    new_string: "const b = 3; // $& $1 stays literal",
  });
  assert.equal(r.isError, false, r.content);
  assert.match(r.content, /1 replacement/);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/a.ts`),
    "const a = 1;\nconst b = 3; // $& $1 stays literal\n",
  );
});

Deno.test("spec §3.3 edit_file: old_string not found is an error and the file is untouched", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/a.ts`, "alpha\nbeta\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: "a.ts",
    old_string: "gamma",
    new_string: "delta",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /not found in a\.ts/);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.ts`), "alpha\nbeta\n");
});

Deno.test("spec §3.3 edit_file: several matches without replace_all ask for more context; replace_all replaces them all", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/a.txt`, "x = 1\ny = 2\nx = 1\nx = 1\n");
  const ambiguous = await call(editFileTool(), ws.env, {
    file_path: "a.txt",
    old_string: "x = 1",
    new_string: "x = 9",
  });
  assert.equal(ambiguous.isError, true);
  assert.match(ambiguous.content, /3 locations/);
  assert.match(ambiguous.content, /more surrounding context|replace_all/);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "x = 1\ny = 2\nx = 1\nx = 1\n");
  const all = await call(editFileTool(), ws.env, {
    file_path: "a.txt",
    old_string: "x = 1",
    new_string: "x = 9",
    replace_all: true,
  });
  assert.equal(all.isError, false, all.content);
  assert.match(all.content, /3 replacements/);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "x = 9\ny = 2\nx = 9\nx = 9\n");
});

Deno.test("spec §3.3 edit_file: in a CRLF file, a multi-line old_string as read_file shows it (LF) matches exactly, mid-line too, and the file stays CRLF", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/w.txt`, "let a = 1;\r\nlet b = 2;\r\nlet c = 3;\r\n");
  // read_file shows no carriage returns, so the model's old_string has none.
  const shown = await call(readFileTool(), ws.env, { file_path: "w.txt" });
  assert.doesNotMatch(shown.content, /\r/);
  const r = await call(editFileTool(), ws.env, {
    file_path: "w.txt",
    old_string: "a = 1;\nlet b",
    new_string: "a = 10;\nlet bb = 0;\nlet b",
  });
  assert.equal(r.isError, false, r.content);
  assert.match(r.content, /1 replacement made\.$/);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/w.txt`),
    "let a = 10;\r\nlet bb = 0;\r\nlet b = 2;\r\nlet c = 3;\r\n",
  );
});

Deno.test("spec §3.3 edit_file: a single-line edit of a CRLF file that inserts lines writes them with CRLF", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/w.txt`, "one\r\ntwo\r\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: "w.txt",
    old_string: "two",
    new_string: "two\nthree",
  });
  assert.equal(r.isError, false, r.content);
  assert.equal(await Deno.readTextFile(`${ws.dir}/w.txt`), "one\r\ntwo\r\nthree\r\n");
});

Deno.test("spec §3.3 edit_file: Unicode text is matched exactly (astral characters, accents, CJK)", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/u.md`, "# Café 🚀\nprint('日本語')\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: "u.md",
    old_string: "Café 🚀",
    new_string: "Crème brûlée 🎉",
  });
  assert.equal(r.isError, false, r.content);
  assert.equal(await Deno.readTextFile(`${ws.dir}/u.md`), "# Crème brûlée 🎉\nprint('日本語')\n");
});

Deno.test("spec §3.3 edit_file: an empty old_string is refused as invalid arguments, nothing written", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/a.txt`, "keep\n");
  const r = await call(editFileTool(), ws.env, {
    file_path: "a.txt",
    old_string: "",
    new_string: "x",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /invalid arguments for edit_file: old_string/);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "keep\n");
});

Deno.test("spec §3.3 edit_file: a missing file is a NotFound error result", async () => {
  await using ws = await tempWorkspace();
  const r = await call(editFileTool(), ws.env, {
    file_path: "nope.txt",
    old_string: "a",
    new_string: "b",
  });
  assert.equal(r.isError, true);
  assert.match(r.content, /^NotFound: /);
});

// --- apply_patch (Appendix A) ------------------------------------------------------------------

Deno.test("Appendix A: one patch adds, deletes, updates with several hunks and context, and moves", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/old_module.py`, "x = 1\n");
  await Deno.writeTextFile(
    `${ws.dir}/config.py`,
    "import os\nDEFAULT_TIMEOUT = 30\n\ndef load_config():\n    config = {}\n" +
      '    config["debug"] = False\n    return config\n',
  );
  await Deno.writeTextFile(`${ws.dir}/old_name.py`, "import os\nimport sys\nimport old_dep\n");
  const patch = [
    "*** Begin Patch",
    "*** Add File: src/utils/helpers.py",
    "+def greet(name):",
    '+    return f"Hello, {name}!"',
    "*** Delete File: old_module.py",
    "*** Update File: config.py",
    "@@ DEFAULT_TIMEOUT = 30",
    "-DEFAULT_TIMEOUT = 30",
    "+DEFAULT_TIMEOUT = 60",
    "@@ def load_config():",
    "     config = {}",
    '-    config["debug"] = False',
    '+    config["debug"] = True',
    "     return config",
    "*** End of File",
    "*** Update File: old_name.py",
    "*** Move to: new_name.py",
    "@@ import os",
    " import sys",
    "-import old_dep",
    "+import new_dep",
    "*** End Patch",
    "",
  ].join("\n");
  const r = await call(applyPatchTool(), ws.env, { patch });
  assert.equal(r.isError, false, r.content);
  // The result lists each affected path and its operation.
  assert.match(r.content, /^A src\/utils\/helpers\.py$/m);
  assert.match(r.content, /^D old_module\.py$/m);
  assert.match(r.content, /^M config\.py$/m);
  assert.match(r.content, /^M old_name\.py -> new_name\.py$/m);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/src/utils/helpers.py`),
    'def greet(name):\n    return f"Hello, {name}!"\n',
  );
  await assert.rejects(Deno.stat(`${ws.dir}/old_module.py`), Deno.errors.NotFound);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/config.py`),
    "import os\nDEFAULT_TIMEOUT = 60\n\ndef load_config():\n    config = {}\n" +
      '    config["debug"] = True\n    return config\n',
  );
  await assert.rejects(Deno.stat(`${ws.dir}/old_name.py`), Deno.errors.NotFound);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/new_name.py`),
    "import os\nimport sys\nimport new_dep\n",
  );
});

Deno.test("Appendix A: a hunk that does not apply names the file and hunk, and nothing of the patch is applied", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/a.txt`, "one\ntwo\n");
  await Deno.writeTextFile(`${ws.dir}/b.txt`, "alpha\nbeta\ngamma\n");
  await Deno.writeTextFile(`${ws.dir}/gone.txt`, "still here\n");
  const patch = [
    "*** Begin Patch",
    "*** Update File: a.txt",
    "@@",
    "-one",
    "+ONE",
    "*** Delete File: gone.txt",
    "*** Add File: new.txt",
    "+new",
    "*** Update File: b.txt",
    "@@ alpha",
    "-beta",
    "+BETA",
    "@@ gamma",
    "-delta",
    "+DELTA",
    "*** End Patch",
  ].join("\n");
  const r = await call(applyPatchTool(), ws.env, { patch });
  assert.equal(r.isError, true);
  assert.match(r.content, /nothing was changed/);
  assert.match(r.content, /Update File b\.txt, hunk 2 \(@@ gamma\)/);
  assert.match(r.content, /delta/);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "one\ntwo\n");
  assert.equal(await Deno.readTextFile(`${ws.dir}/b.txt`), "alpha\nbeta\ngamma\n");
  assert.equal(await Deno.readTextFile(`${ws.dir}/gone.txt`), "still here\n");
  await assert.rejects(Deno.stat(`${ws.dir}/new.txt`), Deno.errors.NotFound);
});

Deno.test("Appendix A: *** End of File anchors a hunk at the end when the same lines occur earlier", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/e.txt`, "end\nmiddle\nend\n");
  const patch = "*** Begin Patch\n*** Update File: e.txt\n@@\n-end\n+END\n*** End of File\n" +
    "*** End Patch\n";
  const r = await call(applyPatchTool(), ws.env, { patch });
  assert.equal(r.isError, false, r.content);
  assert.equal(await Deno.readTextFile(`${ws.dir}/e.txt`), "end\nmiddle\nEND\n");
});

// --- read_file -----------------------------------------------------------------------------------

Deno.test("spec §3.3 read_file: 'NNN | content' lines, offset is 1-based, limit counts lines, default 2000", async () => {
  await using ws = await tempWorkspace();
  const lines = Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`);
  await Deno.writeTextFile(`${ws.dir}/big.txt`, lines.join("\n") + "\n");
  const window = await call(readFileTool(), ws.env, { file_path: "big.txt", offset: 9, limit: 3 });
  assert.equal(window.isError, false);
  assert.match(window.content, /^ 9 \| line 9\n10 \| line 10\n11 \| line 11\n/);
  const all = await call(readFileTool(), ws.env, { file_path: "big.txt" });
  const numbered = all.content.split("\n").filter((l) => / \| /.test(l));
  assert.equal(numbered.length, 2000);
  assert.equal(numbered[1999], "2000 | line 2000");
  assert.match(all.content, /offset=2001/);
});

Deno.test("spec §3.3 read_file: a binary file is an error result; an absolute path works", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeFile(`${ws.dir}/blob.bin`, new Uint8Array([0, 1, 2, 0, 255, 0, 7]));
  const r = await call(readFileTool(), ws.env, { file_path: `${ws.dir}/blob.bin` });
  assert.equal(r.isError, true);
  assert.match(r.content, /binary/);
});

Deno.test("spec §5.1/§5.3 read_file: a huge single line is cut to 50 000 characters head and tail; the full output is kept", async () => {
  await using ws = await tempWorkspace();
  const line = "a".repeat(60_000) + "b".repeat(60_000);
  await Deno.writeTextFile(`${ws.dir}/one.csv`, line);
  const r = await call(readFileTool(), ws.env, { file_path: "one.csv" });
  assert.equal(r.truncated, true);
  assert.equal(r.fullContent, `1 | ${line}`);
  const removed = r.fullContent.length - 50_000;
  assert.equal(
    r.content,
    r.fullContent.slice(0, 25_000) +
      `\n\n[WARNING: Tool output was truncated. ${removed} characters were removed from the middle. ` +
      "The full output is available in the event stream. " +
      "If you need to see specific parts, re-run the tool with more targeted parameters.]\n\n" +
      r.fullContent.slice(-25_000),
  );
});

Deno.test("spec §5.3: read_file has no line limit; 2000 short lines reach the model whole", async () => {
  await using ws = await tempWorkspace();
  await Deno.writeTextFile(`${ws.dir}/l.txt`, "x\n".repeat(2000));
  const r = await call(readFileTool(), ws.env, { file_path: "l.txt" });
  assert.equal(r.truncated, false);
  assert.doesNotMatch(r.content, /lines omitted/);
});

// --- truncation (§5) -----------------------------------------------------------------------------

Deno.test("spec §5.1: the head_tail and tail markers are the spec's text", () => {
  const output = "0123456789".repeat(10);
  assert.equal(
    truncateChars(output, 20, "head_tail"),
    "0123456789\n\n[WARNING: Tool output was truncated. 80 characters were removed from the middle. " +
      "The full output is available in the event stream. " +
      "If you need to see specific parts, re-run the tool with more targeted parameters.]\n\n" +
      "0123456789",
  );
  assert.equal(
    truncateChars(output, 20, "tail"),
    "[WARNING: Tool output was truncated. First 80 characters were removed. " +
      "The full output is available in the event stream.]\n\n01234567890123456789",
  );
  assert.equal(
    truncateLines("1\n2\n3\n4\n5\n6", 4),
    "1\n2\n[... 2 lines omitted ...]\n5\n6",
  );
});

const SPEC_LIMITS: Record<string, [number, "head_tail" | "tail", number | undefined]> = {
  read_file: [50_000, "head_tail", undefined],
  shell: [30_000, "head_tail", 256],
  grep: [20_000, "tail", 200],
  glob: [20_000, "tail", 500],
  edit_file: [10_000, "tail", undefined],
  apply_patch: [10_000, "tail", undefined],
  write_file: [1_000, "tail", undefined],
  spawn_agent: [20_000, "head_tail", undefined],
};

for (const [tool, [maxChars, mode, maxLines]] of Object.entries(SPEC_LIMITS)) {
  Deno.test(
    `spec §5.2/§5.3: ${tool} output is cut at ${maxChars} characters (${mode})${
      maxLines ? `, then ${maxLines} lines` : ""
    }, and the full output is kept`,
    async () => {
      const long = Array.from({ length: 40_000 }, (_, i) => `${i}`).join("\n"); // ~200 000 chars
      const registry = new DefaultToolRegistry([{
        definition: { name: tool, description: "x", parameters: { type: "object" } },
        execute: () => Promise.resolve({ content: long, isError: false }),
      }]);
      const r = await registry.execute({ name: tool, arguments: {} }, {
        env: undefined as unknown as ExecutionEnvironment,
        signal,
      });
      assert.equal(r.fullContent, long);
      assert.equal(r.truncated, true);
      let expected = truncateChars(long, maxChars, mode);
      if (maxLines) expected = truncateLines(expected, maxLines);
      assert.equal(r.content, expected);
      // Line truncation keeps head and tail lines, so a head_tail marker in the middle goes.
      if (!maxLines || mode === "tail") {
        assert.match(r.content, /\[WARNING: Tool output was truncated\. /);
      }
      if (maxLines) {
        assert.match(r.content, /lines omitted \.\.\.\]/);
        assert.equal(r.content.split("\n").length, maxLines + 1); // plus the marker line
      }
    },
  );
}

// --- shell (§3.3, §5.4, §4.2) --------------------------------------------------------------------

/** An environment whose only ability is to record shell requests and time them out. */
function recordingEnv(requests: ExecRequest[]): ExecutionEnvironment {
  return {
    workingDirectory: () => "/work",
    execCommand(request: ExecRequest): Promise<ExecResult> {
      requests.push(request);
      return Promise.resolve({
        stdout: "partial\n",
        stderr: "",
        exitCode: -1,
        timedOut: true,
        durationMs: request.timeoutMs ?? 0,
      });
    },
  } as unknown as ExecutionEnvironment;
}

async function shellTimeout(
  args: Record<string, unknown>,
  options: { settings?: ToolSettings; profileDefault?: number } = {},
): Promise<{ timeoutMs: number | undefined; content: string; isError: boolean }> {
  const requests: ExecRequest[] = [];
  const registry = new DefaultToolRegistry([
    shellTool(
      options.profileDefault === undefined ? {} : { defaultTimeoutMs: options.profileDefault },
    ),
  ]);
  const r = await registry.execute(
    { name: "shell", arguments: { command: "sleep 999", ...args } },
    {
      env: recordingEnv(requests),
      signal,
      settings: options.settings,
    },
  );
  return { timeoutMs: requests[0]?.timeoutMs, content: r.content, isError: r.isError };
}

Deno.test("spec §5.4: the shell timeout defaults to 10 000 ms, timeout_ms overrides it, 600 000 ms caps it", async () => {
  assert.equal((await shellTimeout({})).timeoutMs, 10_000);
  assert.equal((await shellTimeout({ timeout_ms: 2_500 })).timeoutMs, 2_500);
  const capped = await shellTimeout({ timeout_ms: 3_600_000 });
  assert.equal(capped.timeoutMs, 600_000);
  assert.match(capped.content, /exceeds the maximum; 600000 ms was used/);
  // SessionConfig's values reach the tool as settings.
  const configured = await shellTimeout({}, {
    settings: { defaultCommandTimeoutMs: 4_000, maxCommandTimeoutMs: 5_000 },
  });
  assert.equal(configured.timeoutMs, 4_000);
  assert.equal(
    (await shellTimeout({ timeout_ms: 9_000 }, { settings: { maxCommandTimeoutMs: 5_000 } }))
      .timeoutMs,
    5_000,
  );
});

Deno.test("spec §3.5: a default built into the shell tool applies when the call sets none", async () => {
  assert.equal((await shellTimeout({}, { profileDefault: 120_000 })).timeoutMs, 120_000);
});

Deno.test("spec §5.4: a timed-out command is an error whose text ends with the spec's timeout message after the partial output", async () => {
  const r = await shellTimeout({ timeout_ms: 1234 });
  assert.equal(r.isError, true);
  assert.ok(r.content.startsWith("partial\n"), r.content);
  assert.ok(
    r.content.includes(
      "[ERROR: Command timed out after 1234ms. Partial output is shown above.\n" +
        "You can retry with a longer timeout by setting the timeout_ms parameter.]",
    ),
    r.content,
  );
});

Deno.test("spec §5.4: a real command is killed at its timeout and the partial output is kept", async () => {
  await using ws = await tempWorkspace();
  const started = performance.now();
  const r = await call(shellTool(), ws.env, { command: "echo before; sleep 20", timeout_ms: 300 });
  assert.ok(performance.now() - started < 5_000);
  assert.equal(r.isError, true);
  assert.match(r.content, /^before\n/);
  assert.match(r.content, /Command timed out after 300ms/);
});

Deno.test("spec §4.2: *_API_KEY, *_SECRET, *_TOKEN, *_PASSWORD, *_CREDENTIAL (any case) do not reach commands; core and other variables do", async () => {
  await using ws = await tempWorkspace();
  const secrets = {
    FORGE_CONF_API_KEY: "leak-1",
    forge_conf_secret: "leak-2",
    FORGE_CONF_Token: "leak-3",
    FORGE_CONF_PASSWORD: "leak-4",
    FORGE_CONF_CREDENTIAL: "leak-5",
  };
  for (const [k, v] of Object.entries(secrets)) Deno.env.set(k, v);
  Deno.env.set("FORGE_CONF_PLAIN", "plain-ok");
  try {
    const r = await call(shellTool(), ws.env, { command: "env" });
    assert.equal(r.isError, false, r.content);
    assert.doesNotMatch(r.fullContent, /leak-\d/);
    assert.match(r.fullContent, /^FORGE_CONF_PLAIN=plain-ok$/m);
    assert.match(r.fullContent, /^PATH=/m);
    // A variable the host passes on purpose (SessionConfig/ToolSettings.commandEnv) is allowed.
    const allowed = await call(shellTool(), ws.env, { command: "echo $DEPLOY_TOKEN" }, {
      commandEnv: { DEPLOY_TOKEN: "granted" },
    });
    assert.equal(allowed.content.split("\n")[0], "granted");
  } finally {
    for (const k of Object.keys(secrets)) Deno.env.delete(k);
    Deno.env.delete("FORGE_CONF_PLAIN");
  }
});

// --- unknown tools and invalid arguments (§3.8, Appendix B) -------------------------------------

Deno.test("spec §9.3: unknown tools and invalid arguments are error results, never exceptions", async () => {
  await using ws = await tempWorkspace();
  const registry = new DefaultToolRegistry(coreTools({ applyPatch: true }));
  const run = (name: string, args: unknown) =>
    registry.execute({ name, arguments: args, callId: "c1" }, { env: ws.env, signal });
  const unknown = await run("delete_everything", {});
  assert.equal(unknown.isError, true);
  assert.ok(unknown.content.startsWith("Unknown tool: delete_everything"), unknown.content);
  assert.equal(unknown.callId, "c1");
  const cases: [string, unknown, RegExp][] = [
    ["read_file", "{not json", /not valid JSON/],
    ["read_file", "[1,2]", /must be a JSON object/],
    ["read_file", {}, /file_path/],
    ["read_file", { file_path: 42 }, /file_path/],
    ["read_file", { file_path: "a", offset: 0 }, /offset/],
    ["read_file", { file_path: "a", offset: 1.5 }, /offset/],
    ["shell", { command: "true", timeout_ms: "soon" }, /timeout_ms/],
    ["edit_file", { file_path: "a", old_string: "x" }, /new_string/],
    [
      "edit_file",
      { file_path: "a", old_string: "x", new_string: "y", replace_all: "yes" },
      /replace_all/,
    ],
    ["apply_patch", { patch: "not a patch" }, /Begin Patch/],
    ["glob", { pattern: "*", recursive: true }, /recursive/],
  ];
  for (const [name, args, expected] of cases) {
    const r = await run(name, args);
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.match(r.content, expected, `${name} ${JSON.stringify(args)}: ${r.content}`);
  }
});

// --- the full output reaches the event stream and the store (§2.9, §5.1, §9.5) -------------------

Deno.test("spec §9.13 step 4: the model gets a truncated read of a 100 000-character file; tool_call_end and the stored call keep all of it", async () => {
  const { MemoryStore } = await import("@forge/turnstore");
  const { anthropicProfile, readSession, ScriptedProvider, Session } = await import("../mod.ts");
  await using ws = await tempWorkspace();
  const big = "x".repeat(100_000);
  await Deno.writeTextFile(`${ws.dir}/big.txt`, big);
  const store = new MemoryStore();
  const provider = new ScriptedProvider([
    { toolCalls: [{ name: "read_file", arguments: { file_path: "big.txt" } }] },
    { text: "read it" },
  ]);
  const session = new Session({
    provider,
    profile: anthropicProfile({ model: "m" }),
    env: ws.env,
    store,
    persistence: "required",
  });
  const ends: { output: string; truncated: boolean }[] = [];
  const events = (async () => {
    for await (const e of session.events()) if (e.kind === "tool_call_end") ends.push(e);
  })();
  await session.submit("Read big.txt");
  await session.close();
  await events;
  assert.equal(ends.length, 1);
  assert.equal(ends[0].output, `1 | ${big}`);
  assert.equal(ends[0].truncated, true);
  const sent = provider.requests[1].messages.at(-1)!.content[0];
  assert.ok(sent.kind === "tool_result");
  const seen = String(sent.toolResult.content);
  assert.match(seen, /\[WARNING: Tool output was truncated\. 50004 characters were removed/);
  assert.ok(seen.length < 50_500);
  const view = await readSession(store, session.contextId!);
  assert.equal(view.toolCalls[0].output, `1 | ${big}`);
  const results = view.transcript.find((e) => e.kind === "tool_results");
  assert.ok(results?.kind === "tool_results");
  assert.equal(results.results[0].content, seen);
});

Deno.test("spec §9.3/Appendix B: in a session, an unknown tool and invalid arguments come back to the model as error results and the loop goes on", async () => {
  const { anthropicProfile, ScriptedProvider, Session } = await import("../mod.ts");
  await using ws = await tempWorkspace();
  const provider = new ScriptedProvider([
    {
      toolCalls: [
        { name: "no_such_tool", arguments: {} },
        { name: "read_file", arguments: { path: "wrong-name.txt" } },
        { name: "edit_file", arguments: { file_path: 7, old_string: "a", new_string: "b" } },
      ],
    },
    { text: "recovered" },
  ]);
  const session = new Session({ provider, profile: anthropicProfile({ model: "m" }), env: ws.env });
  const result = await session.submit("go");
  await session.close();
  assert.equal(result.stopReason, "completed");
  assert.equal(result.text, "recovered");
  const parts = provider.requests[1].messages.filter((m) => m.role === "tool")
    .flatMap((m) => m.content);
  const results = parts.flatMap((p) => p.kind === "tool_result" ? [p.toolResult] : []);
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.isError));
  assert.match(String(results[0].content), /^Unknown tool: no_such_tool/);
  assert.match(String(results[1].content), /invalid arguments for read_file: .*file_path/);
  assert.match(String(results[2].content), /invalid arguments for edit_file: file_path/);
});

Deno.test("Appendix A: context lines are unchanged lines — matched loosely (tabs vs spaces, trailing blanks, curly quotes), they keep the file's own text", async () => {
  await using ws = await tempWorkspace();
  const original = "build:\n\tgo build ./...  \n\techo “done”\n\ntest:\n\tgo test ./...\n";
  await Deno.writeTextFile(`${ws.dir}/Makefile`, original);
  // The model wrote the recipe lines with spaces and plain quotes, as models often do.
  const patch = [
    "*** Begin Patch",
    "*** Update File: Makefile",
    "@@ build:",
    "    go build ./...",
    '    echo "done"',
    "+\tgo vet ./...",
    " ",
    " test:",
    "*** End Patch",
  ].join("\n");
  const r = await call(applyPatchTool(), ws.env, { patch });
  assert.equal(r.isError, false, r.content);
  assert.equal(
    await Deno.readTextFile(`${ws.dir}/Makefile`),
    "build:\n\tgo build ./...  \n\techo “done”\n\tgo vet ./...\n\ntest:\n\tgo test ./...\n",
  );
});

Deno.test("spec §5.1: truncation never splits a character in two (no lone UTF-16 surrogate reaches the model)", () => {
  const rockets = "🚀".repeat(20); // 40 UTF-16 code units
  const isWellFormed = (s: string) =>
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
  for (const max of [9, 10, 11]) {
    for (const mode of ["head_tail", "tail"] as const) {
      const cut = truncateChars(rockets, max, mode);
      assert.ok(isWellFormed(cut), `${mode} ${max}: ${JSON.stringify(cut)}`);
      const kept = [...cut.replace(/\[WARNING[^\]]*\]/, "")].filter((c) => c === "🚀").length;
      const removed = Number(cut.match(/(\d+) characters were removed/)![1]);
      assert.equal(kept * 2 + removed, rockets.length, "the marker counts what really went");
    }
  }
});
