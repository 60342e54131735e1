/**
 * The demo's model: a scripted provider per agent stage, chosen by the
 * `[stage]` tag that opens each stage prompt of examples/demo.dot, plus one
 * for the subagent the plan stage spawns (chosen by its exact task). Each
 * script is what a model would plausibly answer; the tools it calls run for
 * real in the demo workspace.
 *
 * @module
 */
import {
  type LlmProvider,
  type LlmRequest,
  type LlmResponse,
  type LlmStreamEvent,
  messageText,
  ScriptedProvider,
} from "@forge/agent/llm";

/** The task the plan stage gives its subagent. */
export const SUBAGENT_TASK = "Read README.md and say which command-line flags it documents.";

/** The provider of one demo run: stage tag or subagent task → its script. */
export class DemoModel implements LlmProvider {
  /** Provider name. */
  readonly name = "scripted";
  readonly #routes: Map<string, ScriptedProvider>;

  /** A fresh set of scripts (each run needs its own: scripts are consumed). */
  constructor() {
    this.#routes = new Map(Object.entries({
      plan: new ScriptedProvider([
        {
          text: "Let me read the CLI first, and have a helper check what the README documents.",
          toolCalls: [
            { name: "read_file", arguments: { file_path: "src/greet.ts" } },
            { name: "spawn_agent", arguments: { task: SUBAGENT_TASK } },
          ],
        },
        { toolCalls: [{ name: "wait", arguments: { agent_id: "agent-1" } }] },
        { toolCalls: [{ name: "close_agent", arguments: { agent_id: "agent-1" } }] },
        {
          text: "Plan: 1. add src/version.ts exporting VERSION; 2. print it for --version in " +
            "src/greet.ts; 3. document the flag in README.md and CHANGELOG.md.",
        },
      ]),
      subagent: new ScriptedProvider([
        { toolCalls: [{ name: "read_file", arguments: { file_path: "README.md" } }] },
        { text: "README.md documents no command-line flags yet." },
      ]),
      // Two attempts: the first forgets the export (its check fails), the retry fixes it.
      implement: new ScriptedProvider([
        {
          text: "Adding the version module.",
          toolCalls: [{
            name: "write_file",
            arguments: { file_path: "src/version.ts", content: 'const VERSION = "1.0.0";\n' },
          }],
        },
        { text: "Added src/version.ts." },
        {
          text: "The check says VERSION is not exported; fixing that.",
          toolCalls: [{ name: "read_file", arguments: { file_path: "src/version.ts" } }],
        },
        {
          toolCalls: [{
            name: "write_file",
            arguments: {
              file_path: "src/version.ts",
              content: 'export const VERSION = "1.0.0";\n',
            },
          }],
        },
        { text: "src/version.ts now exports VERSION." },
      ]),
      docs: new ScriptedProvider([
        { toolCalls: [{ name: "read_file", arguments: { file_path: "README.md" } }] },
        {
          toolCalls: [{
            name: "write_file",
            arguments: {
              file_path: "README.md",
              content: "# greeter\n\ngreet() says hello by name.\n\n" +
                "`greeter --version` prints the version.\n",
            },
          }],
        },
        { text: "README.md documents --version." },
      ]),
      changelog: new ScriptedProvider([
        {
          toolCalls: [{
            name: "write_file",
            arguments: {
              file_path: "CHANGELOG.md",
              content: "# Changelog\n\n## 1.0.0\n\n- `--version` prints the version.\n",
            },
          }],
        },
        { text: "CHANGELOG.md has the entry." },
      ]),
    }));
  }

  #pick(request: LlmRequest): ScriptedProvider {
    const first = request.messages.find((m) => m.role === "user");
    const text = first ? messageText(first) : "";
    // The stage prompt comes last, after any context preamble the runner adds.
    let key = text === SUBAGENT_TASK ? "subagent" : undefined;
    let at = -1;
    for (const stage of this.#routes.keys()) {
      const i = text.lastIndexOf(`[${stage}]`);
      if (i > at) [key, at] = [stage, i];
    }
    const provider = key ? this.#routes.get(key) : undefined;
    if (!provider) throw new Error(`the demo model has no script for ${JSON.stringify(text)}`);
    return provider;
  }

  /** Answers from the stage's script. */
  complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    return this.#pick(request).complete(request, signal);
  }

  /** Streams from the stage's script. */
  stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamEvent> {
    return this.#pick(request).stream(request, signal);
  }
}
