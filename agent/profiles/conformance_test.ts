// Conformance of the provider profiles to the coding-agent-loop spec (§3.2–§3.7, §7.2), through
// the public API (`@forge/agent`): the tool set each profile offers, the subagent tools a session
// adds, the shell default per profile, and the topics each base prompt must cover.
import assert from "node:assert/strict";
import {
  anthropicProfile,
  geminiProfile,
  LocalExecutionEnvironment,
  openaiProfile,
  type ProviderProfile,
  ScriptedProvider,
  Session,
} from "../mod.ts";
import type { ToolDefinition } from "../tools/mod.ts";

const SUBAGENT_TOOLS = ["spawn_agent", "send_input", "wait", "close_agent"];

Deno.test("spec §3.4: the OpenAI profile offers read_file, apply_patch, write_file, shell, grep, glob — and no edit_file", () => {
  const names = openaiProfile().tools().map((t) => t.name);
  assert.deepEqual(
    [...names].sort(),
    ["apply_patch", "glob", "grep", "read_file", "shell", "write_file"],
  );
});

Deno.test("spec §3.5: the Anthropic profile offers read_file, write_file, edit_file, shell, grep, glob — and no apply_patch", () => {
  const names = anthropicProfile().tools().map((t) => t.name);
  assert.deepEqual(
    [...names].sort(),
    ["edit_file", "glob", "grep", "read_file", "shell", "write_file"],
  );
});

Deno.test("spec §3.6: the Gemini profile adds read_many_files and list_dir to the edit_file set", () => {
  const names = geminiProfile().tools().map((t) => t.name);
  assert.deepEqual(
    [...names].sort(),
    [
      "edit_file",
      "glob",
      "grep",
      "list_dir",
      "read_file",
      "read_many_files",
      "shell",
      "write_file",
    ],
  );
  const byName = new Map(geminiProfile().tools().map((t) => [t.name, t]));
  assert.deepEqual(byName.get("read_many_files")!.parameters.required, ["paths"]);
  const listDir = byName.get("list_dir")!.parameters.properties as Record<string, unknown>;
  assert.ok("depth" in listDir, "list_dir has depth options");
});

Deno.test("spec §3.2: every profile declares its id, model, capabilities and context window", () => {
  for (
    const [profile, id] of [
      [openaiProfile(), "openai"],
      [anthropicProfile(), "anthropic"],
      [geminiProfile(), "gemini"],
    ] as const
  ) {
    assert.equal(profile.id, id);
    assert.ok(profile.model.length > 0);
    assert.equal(typeof profile.supportsReasoning, "boolean");
    assert.equal(typeof profile.supportsStreaming, "boolean");
    assert.equal(typeof profile.supportsParallelToolCalls, "boolean");
    assert.ok(profile.contextWindowSize > 0);
  }
});

Deno.test("spec §3.4–§3.6: shell defaults to 10 s for OpenAI and Gemini, 120 s for Anthropic", () => {
  assert.equal(openaiProfile().defaultCommandTimeoutMs ?? 10_000, 10_000);
  assert.equal(geminiProfile().defaultCommandTimeoutMs ?? 10_000, 10_000);
  assert.equal(anthropicProfile().defaultCommandTimeoutMs, 120_000);
});

async function offeredTools(profile: ProviderProfile): Promise<ToolDefinition[]> {
  const dir = await Deno.makeTempDir({ prefix: "forge-profile-conf-" });
  await using env = new LocalExecutionEnvironment({ workingDirectory: dir });
  const provider = new ScriptedProvider([{ text: "ok" }]);
  const session = new Session({ provider, profile, env });
  try {
    await session.submit("hi");
    return [...(provider.requests[0].tools ?? [])];
  } finally {
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const make of [openaiProfile, anthropicProfile, geminiProfile]) {
  Deno.test(`spec §3.4–§3.6, §7.2: a ${make().id} session offers the profile's tools plus the four subagent tools`, async () => {
    const profile = make({ model: "test-model" });
    const tools = await offeredTools(profile);
    const names = tools.map((t) => t.name);
    for (const name of profile.tools().map((t) => t.name)) assert.ok(names.includes(name), name);
    for (const name of SUBAGENT_TOOLS) assert.ok(names.includes(name), name);
    const byName = new Map(tools.map((t) => [t.name, t]));
    const required = (name: string) => [...(byName.get(name)!.parameters.required as string[])];
    const properties = (name: string) =>
      Object.keys(byName.get(name)!.parameters.properties as Record<string, unknown>).sort();
    assert.deepEqual(required("spawn_agent"), ["task"]);
    // `max_turns` is named `max_model_calls` here (agent/README.md, spec/vocabulary.md).
    assert.deepEqual(properties("spawn_agent"), [
      "max_model_calls",
      "model",
      "task",
      "working_dir",
    ]);
    assert.deepEqual(required("send_input").sort(), ["agent_id", "message"]);
    assert.deepEqual(required("wait"), ["agent_id"]);
    assert.deepEqual(required("close_agent"), ["agent_id"]);
    assert.ok(byName.get("spawn_agent")!.description.startsWith(
      "Spawn a subagent to handle a scoped task autonomously.",
    ));
    assert.ok(byName.get("wait")!.description.startsWith(
      "Wait for a subagent to complete and return its result.",
    ));
    assert.ok(byName.get("close_agent")!.description.startsWith("Terminate a subagent."));
  });
}

Deno.test("spec §3.7: a custom tool registered on a profile is offered, and the same name replaces the profile's tool", async () => {
  const profile = anthropicProfile({ model: "test-model" });
  profile.toolRegistry.register({
    definition: {
      name: "run_tests",
      description: "Run the project's test suite",
      parameters: { type: "object", properties: { filter: { type: "string" } } },
    },
    execute: () => Promise.resolve({ content: "ok", isError: false }),
  });
  profile.toolRegistry.register({
    definition: { name: "grep", description: "my grep", parameters: { type: "object" } },
    execute: () => Promise.resolve({ content: "mine", isError: false }),
  });
  const tools = await offeredTools(profile);
  assert.ok(tools.some((t) => t.name === "run_tests"));
  const greps = tools.filter((t) => t.name === "grep");
  assert.equal(greps.length, 1);
  assert.equal(greps[0].description, "my grep");
});

Deno.test("spec §3.4/§6.2: the OpenAI base prompt covers identity, tool use, the apply_patch format and practices", () => {
  const text = openaiProfile().baseInstructions();
  assert.match(text, /^You are a coding agent/);
  for (
    const needle of ["apply_patch", "*** Begin Patch", "*** End Patch", "*** Update File:", "@@"]
  ) {
    assert.ok(text.includes(needle), needle);
  }
  assert.match(text, /shell/);
  assert.match(text, /tests/);
});

Deno.test("spec §3.5/§6.2: the Anthropic base prompt covers read-before-edit, edit over write, and a unique old_string", () => {
  const text = anthropicProfile().baseInstructions();
  assert.match(text, /^You are an interactive coding agent/);
  assert.match(text, /read_file before editing/);
  assert.match(text, /Prefer editing existing files over creating new ones/);
  assert.match(text, /old_string must match the file exactly/);
  assert.match(text, /unique/);
  assert.doesNotMatch(text, /apply_patch/);
});

Deno.test("spec §3.6/§6.2: the Gemini base prompt covers identity, tools and GEMINI.md conventions", () => {
  const text = geminiProfile().baseInstructions();
  assert.match(text, /^You are a coding agent/);
  assert.match(text, /GEMINI\.md/);
  assert.match(text, /edit_file/);
  assert.doesNotMatch(text, /apply_patch/);
});

/** A local environment that records the timeout of each command the shell tool runs. */
class RecordingEnvironment extends LocalExecutionEnvironment {
  readonly timeouts: (number | undefined)[] = [];
  override execCommand(
    request: Parameters<LocalExecutionEnvironment["execCommand"]>[0],
  ): ReturnType<LocalExecutionEnvironment["execCommand"]> {
    if (request.command === "true") this.timeouts.push(request.timeoutMs);
    return super.execCommand(request);
  }
}

async function shellTimeoutInSession(
  profile: ProviderProfile,
  defaultCommandTimeoutMs?: number,
): Promise<number | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "forge-profile-conf-" });
  await using env = new RecordingEnvironment({ workingDirectory: dir });
  const provider = new ScriptedProvider([
    { toolCalls: [{ name: "shell", arguments: { command: "true" } }] },
    { text: "ok" },
  ]);
  const session = new Session({ provider, profile, env, defaultCommandTimeoutMs });
  try {
    await session.submit("run it");
    return env.timeouts[0];
  } finally {
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("spec §2.2/§3.5: in a session the shell gets the profile's default (Anthropic 120 s, others 10 s), and SessionConfig.defaultCommandTimeoutMs overrides it for every profile", async () => {
  assert.equal(await shellTimeoutInSession(anthropicProfile({ model: "m" })), 120_000);
  assert.equal(await shellTimeoutInSession(openaiProfile({ model: "m" })), 10_000);
  assert.equal(await shellTimeoutInSession(geminiProfile({ model: "m" })), 10_000);
  assert.equal(await shellTimeoutInSession(anthropicProfile({ model: "m" }), 4_000), 4_000);
  assert.equal(await shellTimeoutInSession(openaiProfile({ model: "m" }), 4_000), 4_000);
});
