/**
 * The keyless demo (`deno task demo`): a coding agent with a scripted model
 * works in a small workspace, spawns a subagent (whose context is a fork of
 * the parent's), and every turn, tool call and link is persisted to a local
 * Deno KV file. Then the session tree is read back from the store alone and
 * printed.
 *
 * No API key, no server: the model is a script, the store a file under
 * ./.forge, the file tools run in a worker that can only touch the workspace.
 *
 * @module
 */
import {
  anthropicProfile,
  defaultEnvironment,
  describeConfinement,
  readSession,
  RoutingProvider,
  ScriptedProvider,
  Session,
  type SessionView,
} from "@forge/agent";
import { openStore } from "@forge/stores";

const TASK = "Add a CHANGELOG entry for the new greeting and check the README mentions it.";
const CHILD_TASK = "Read README.md and report whether it mentions a greeting.";

/** The model's side of the conversation, scripted: the parent and the subagent. */
function scriptedModel(): RoutingProvider {
  const parent = new ScriptedProvider([
    {
      text: "Let me look at the project first.",
      toolCalls: [{ name: "read_file", arguments: { file_path: "src/greet.ts" } }],
    },
    {
      text: "I'll record the change, and ask a helper to check the README meanwhile.",
      toolCalls: [
        {
          name: "write_file",
          arguments: {
            file_path: "CHANGELOG.md",
            content: "# Changelog\n\n- greet() now says hello by name.\n",
          },
        },
        { name: "spawn_agent", arguments: { task: CHILD_TASK } },
      ],
    },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "close_agent", arguments: { agent_id: "agent-1" } }] },
    { text: "Done: CHANGELOG.md has the entry, and the README already mentions the greeting." },
  ]);
  const child = new ScriptedProvider([
    { toolCalls: [{ name: "read_file", arguments: { file_path: "README.md" } }] },
    { text: "Yes: README.md says greet() says hello by name." },
  ]);
  return new RoutingProvider({ [TASK]: parent, [CHILD_TASK]: child });
}

function indent(text: string, by: string): string {
  return text.split("\n").map((line) => by + line).join("\n");
}

function clip(text: string, max = 90): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The session tree as text, read from the store. */
export function renderSession(view: SessionView, depth = 0): string {
  const lines = [
    `session ${view.sessionId} — context ${view.contextId}, head ${view.headTurnId}` +
    `${view.finalState ? `, ${view.finalState}` : ""}` +
    `${view.inheritedTurns ? ` (forked: shares ${view.inheritedTurns} turns of its parent)` : ""}`,
  ];
  for (const entry of view.transcript) {
    const at = `turn ${entry.turnId}`;
    switch (entry.kind) {
      case "user":
        lines.push(`  ${at} user: ${clip(entry.content)}`);
        break;
      case "assistant":
        lines.push(`  ${at} assistant: ${clip(entry.text || "(tool calls only)")}`);
        for (const call of entry.toolCalls) {
          lines.push(`      → ${call.name} ${clip(call.arguments, 70)}`);
        }
        break;
      case "tool_results":
        for (const result of entry.results) {
          lines.push(
            `  ${at} tool result${result.isError ? " (error)" : ""}: ${clip(result.content, 70)}`,
          );
        }
        break;
      default:
        lines.push(`  ${at} ${entry.kind}: ${clip(entry.content)}`);
    }
  }
  for (const sub of view.subagents) {
    lines.push(
      `  subagent ${sub.agentId} (${
        sub.status ?? "running"
      }): context ${sub.childContextId}, a fork of turn ${sub.forkedFromTurnId}`,
    );
    if (sub.session) lines.push(indent(renderSession(sub.session, depth + 1), "    "));
  }
  return lines.join("\n");
}

/** Runs the demo against `storeUrl` in `workspaceDir`; returns the root context id. */
export async function runDemo(storeUrl: string, workspaceDir: string): Promise<string> {
  await Deno.mkdir(`${workspaceDir}/src`, { recursive: true });
  await Deno.writeTextFile(
    `${workspaceDir}/src/greet.ts`,
    "export function greet(name: string): string {\n  return `hello, ${name}`;\n}\n",
  );
  await Deno.writeTextFile(
    `${workspaceDir}/README.md`,
    "# greeter\n\ngreet() says hello by name.\n",
  );
  await using store = await openStore(storeUrl);
  // Inside bubblewrap wherever it works; elsewhere the file tools run under
  // Deno permissions and no shell is offered.
  const env = await defaultEnvironment(workspaceDir);
  console.log(`sandbox: ${describeConfinement(env.confinement())}\n`);
  try {
    const session = new Session({
      provider: scriptedModel(),
      profile: anthropicProfile({ model: "scripted" }),
      env,
      store,
      persistence: "required",
    });
    const result = await session.submit(TASK);
    await session.close();
    console.log(`agent: ${result.text}\n`);
    const contextId = session.contextId;
    if (contextId === undefined) throw new Error("the session did not persist a context");
    console.log(renderSession(await readSession(store, contextId)));
    return contextId;
  } finally {
    await env.close();
  }
}

if (import.meta.main) {
  const storeUrl = Deno.args[0] ?? "kv:.forge/demo.kv";
  const contextId = await runDemo(storeUrl, `${Deno.cwd()}/.forge/demo-workspace`);
  console.log(
    `\nEverything above was read back from ${storeUrl}. Inspect it with:\n` +
      `  npx -y deno@2.9.6 task forge log ${contextId} --store ${storeUrl}`,
  );
}
