/**
 * A test fixture: one scripted agent session with a subagent (whose context
 * is a fork of the parent's), persisted to a store, as a real session writes
 * it. The view tests list, trace and serve these.
 *
 * @module
 */
import {
  anthropicProfile,
  ConfinedEnvironment,
  RoutingProvider,
  ScriptedProvider,
  Session,
} from "@forge/agent";
import type { ForgeStore } from "@forge/turnstore";

const TASK = "Add a CHANGELOG entry for the new greeting and check the README mentions it.";
const CHILD_TASK = "Read README.md and report whether it mentions a greeting.";

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
          arguments: { file_path: "CHANGELOG.md", content: "# Changelog\n\n- greet() by name.\n" },
        },
        { name: "spawn_agent", arguments: { task: CHILD_TASK } },
      ],
    },
    { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
    { toolCalls: [{ name: "close_agent", arguments: { agent_id: "agent-1" } }] },
    { text: "Done." },
  ]);
  const child = new ScriptedProvider([
    { toolCalls: [{ name: "read_file", arguments: { file_path: "README.md" } }] },
    { text: "Yes: README.md says greet() says hello by name." },
  ]);
  return new RoutingProvider({ [TASK]: parent, [CHILD_TASK]: child });
}

/** Runs the scripted session in a fresh workspace under `dir`; returns its context id. */
export async function writeScriptedSession(store: ForgeStore, dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/src`, { recursive: true });
  await Deno.writeTextFile(`${dir}/src/greet.ts`, "export const greet = (n: string) => n;\n");
  await Deno.writeTextFile(`${dir}/README.md`, "# greeter\n\ngreet() says hello by name.\n");
  const env = new ConfinedEnvironment({ workspace: dir, sandbox: "none" });
  await env.initialize();
  try {
    const session = new Session({
      provider: scriptedModel(),
      profile: anthropicProfile({ model: "scripted" }),
      env,
      store,
      persistence: "required",
    });
    await session.submit(TASK);
    await session.close();
    if (session.contextId === undefined) throw new Error("the session persisted no context");
    return session.contextId;
  } finally {
    await env.close();
  }
}
