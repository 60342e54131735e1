// Conformance of the system prompt to the coding-agent-loop spec (§6): its layers and their
// order, the environment block, the git snapshot, and project document discovery (which files,
// from the git root down to the working directory, the 32 KB budget and its marker), read from
// the request a session sends, as an outside suite would see it.
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
import { PROJECT_DOCS_BUDGET_BYTES, PROJECT_DOCS_TRUNCATED_MARKER } from "./mod.ts";

async function git(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** A temp directory holding `files`; `repo` (a subdirectory) becomes a git repository. */
async function layout(
  files: Record<string, string>,
  repo?: string,
): Promise<{ root: string } & AsyncDisposable> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "forge-prompt-conf-" }));
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
  if (repo !== undefined) {
    const dir = `${root}/${repo}`;
    await git(dir, "init", "-q", "-b", "conformance-branch");
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "first commit subject");
    await Deno.writeTextFile(`${dir}/untracked.txt`, "u");
  }
  return {
    root,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** The system prompt of the first request a session sends from `cwd`. */
async function systemPrompt(
  profile: ProviderProfile,
  cwd: string,
  userInstructions?: string,
): Promise<string> {
  await using env = new LocalExecutionEnvironment({ workingDirectory: cwd });
  const provider = new ScriptedProvider([{ text: "ok" }]);
  const session = new Session({ provider, profile, env, userInstructions });
  try {
    await session.submit("hi");
  } finally {
    await session.close();
  }
  const system = provider.requests[0].messages[0];
  assert.equal(system.role, "system");
  return system.content.map((p) => (p.kind === "text" ? p.text : "")).join("");
}

const DOCS = {
  "AGENTS.md": "outside-the-repo",
  "repo/AGENTS.md": "agents-root",
  "repo/CLAUDE.md": "claude-root",
  "repo/GEMINI.md": "gemini-root",
  "repo/.codex/instructions.md": "codex-root",
  "repo/pkg/AGENTS.md": "agents-pkg",
  "repo/pkg/sub/CLAUDE.md": "claude-sub",
  "repo/pkg/sub/GEMINI.md": "gemini-sub",
  "repo/pkg/sub/.codex/instructions.md": "codex-sub",
};

function assertInOrder(text: string, needles: readonly string[]): void {
  let at = -1;
  for (const needle of needles) {
    const next = text.indexOf(needle, at + 1);
    assert.ok(next > at, `${JSON.stringify(needle)} after the previous layer`);
    at = next;
  }
}

Deno.test("spec §6.1: layers in order — base instructions, environment, tools, project docs, user instructions last", async () => {
  await using t = await layout(DOCS, "repo");
  const profile = anthropicProfile({ model: "claude-conformance" });
  const text = await systemPrompt(profile, `${t.root}/repo/pkg/sub`, "USER-OVERRIDE: be brief");
  assert.ok(text.startsWith(profile.baseInstructions().trim().slice(0, 40)));
  assertInOrder(text, [
    profile.baseInstructions().trim().slice(-40),
    "<environment>",
    "</environment>",
    "edit_file: Replace an exact string occurrence in a file.",
    "spawn_agent: Spawn a subagent",
    "agents-root",
    "USER-OVERRIDE: be brief",
  ]);
  assert.ok(text.trimEnd().endsWith("USER-OVERRIDE: be brief"));
});

Deno.test("spec §6.3/§6.4: the environment block names the working directory, git, platform, OS, date and model; the git snapshot has branch, counts and commits", async () => {
  await using t = await layout(DOCS, "repo");
  const cwd = `${t.root}/repo/pkg/sub`;
  const text = await systemPrompt(anthropicProfile({ model: "claude-conformance" }), cwd);
  const block = text.slice(text.indexOf("<environment>"), text.indexOf("</environment>"));
  assert.match(block, new RegExp(`^Working directory: ${cwd}$`, "m"));
  assert.match(block, /^Is git repository: true$/m);
  assert.match(block, /^Git branch: conformance-branch$/m);
  assert.match(block, new RegExp(`^Platform: ${Deno.build.os}$`, "m"));
  assert.match(block, /^OS version: \S/m);
  assert.match(block, /^Today's date: \d{4}-\d{2}-\d{2}$/m);
  assert.match(block, /^Model: claude-conformance$/m);
  assert.match(text, /0 modified, 1 untracked/);
  assert.match(text, /first commit subject/);
});

Deno.test("spec §6.3: outside a git repository the block says so and has no branch", async () => {
  await using t = await layout({ "AGENTS.md": "plain-dir-agents" });
  const text = await systemPrompt(openaiProfile({ model: "m" }), t.root);
  assert.match(text, /^Is git repository: false$/m);
  assert.doesNotMatch(text, /Git branch:/);
  assert.match(text, /plain-dir-agents/);
});

const EXPECTED: [() => ProviderProfile, string[], string[]][] = [
  [
    () => anthropicProfile({ model: "m" }),
    ["agents-root", "claude-root", "agents-pkg", "claude-sub"],
    ["gemini-", "codex-"],
  ],
  [
    () => openaiProfile({ model: "m" }),
    ["agents-root", "codex-root", "agents-pkg", "codex-sub"],
    ["claude-", "gemini-"],
  ],
  [
    () => geminiProfile({ model: "m" }),
    ["agents-root", "gemini-root", "agents-pkg", "gemini-sub"],
    ["claude-", "codex-"],
  ],
];

for (const [make, loaded, skipped] of EXPECTED) {
  Deno.test(`spec §6.5: the ${make().id} profile loads AGENTS.md and its own file, git root first, down to the working directory`, async () => {
    await using t = await layout(DOCS, "repo");
    const text = await systemPrompt(make(), `${t.root}/repo/pkg/sub`);
    assertInOrder(text, loaded);
    for (const other of skipped) assert.ok(!text.includes(other), `${other} is not loaded`);
    assert.ok(!text.includes("outside-the-repo"), "nothing above the git root");
    assert.ok(!text.includes(PROJECT_DOCS_TRUNCATED_MARKER));
  });
}

Deno.test("spec §6.5: outside a repository only the working directory's files are read", async () => {
  await using t = await layout({ "AGENTS.md": "parent-agents", "work/AGENTS.md": "work-agents" });
  const text = await systemPrompt(anthropicProfile({ model: "m" }), `${t.root}/work`);
  assert.match(text, /work-agents/);
  assert.doesNotMatch(text, /parent-agents/);
});

Deno.test("spec §6.5: project documents share a 32 KB budget; past it they are cut and the marker says so", async () => {
  const big = (tag: string) => `${tag}\n${"x".repeat(20 * 1024)}\n${tag}-end`;
  await using t = await layout({
    "repo/AGENTS.md": big("root-doc"),
    "repo/pkg/AGENTS.md": big("pkg-doc"),
    "repo/pkg/CLAUDE.md": "never-reached",
  }, "repo");
  const text = await systemPrompt(anthropicProfile({ model: "m" }), `${t.root}/repo/pkg`);
  assert.equal(PROJECT_DOCS_BUDGET_BYTES, 32 * 1024);
  assert.equal(PROJECT_DOCS_TRUNCATED_MARKER, "[Project instructions truncated at 32KB]");
  assert.match(text, /root-doc-end/); // the first file fits whole
  assert.match(text, /pkg-doc\n/); // the second starts …
  assert.doesNotMatch(text, /pkg-doc-end/); // … and is cut
  assert.doesNotMatch(text, /never-reached/);
  assert.ok(text.includes(PROJECT_DOCS_TRUNCATED_MARKER));
  const xs = text.match(/x/g)?.length ?? 0;
  assert.ok(xs <= PROJECT_DOCS_BUDGET_BYTES, `${xs} bytes of documents`);
  assert.ok(xs > PROJECT_DOCS_BUDGET_BYTES - 100, "the budget is used up to its end");
});

Deno.test("spec §6.5: a working directory reached through a symlink still loads the files from the git root down", async () => {
  await using t = await layout(DOCS, "repo");
  await Deno.symlink(`${t.root}/repo`, `${t.root}/link`);
  const cwd = `${t.root}/link/pkg/sub`;
  const text = await systemPrompt(anthropicProfile({ model: "m" }), cwd);
  assertInOrder(text, ["agents-root", "claude-root", "agents-pkg", "claude-sub"]);
  assert.match(text, new RegExp(`^Working directory: ${cwd}$`, "m"));
  assert.ok(!text.includes("outside-the-repo"));
});
