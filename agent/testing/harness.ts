/**
 * Test helpers: a real temporary workspace, a session over the scripted
 * provider, and an event collector.
 *
 * @module
 */
import { LocalExecutionEnvironment } from "../env/local.ts";
import { ScriptedProvider, type ScriptedReply } from "../llm/scripted.ts";
import { anthropicProfile } from "../profiles/providers.ts";
import type { ProviderProfile } from "../profiles/types.ts";
import type { SessionConfig } from "../session/config.ts";
import type { SessionEvent } from "../session/events.ts";
import { Session } from "../session/session.ts";

/** A temp directory with a local environment rooted in it; remove it with `dispose()`. */
export interface Workspace extends AsyncDisposable {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** A local environment whose working directory is `dir`. */
  readonly env: LocalExecutionEnvironment;
}

/** Creates a temporary workspace holding `files` (relative path → content). */
export async function makeWorkspace(files: Record<string, string> = {}): Promise<Workspace> {
  const dir = await Deno.makeTempDir({ prefix: "forge-agent-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
  const env = new LocalExecutionEnvironment({ workingDirectory: dir });
  return {
    dir,
    env,
    async [Symbol.asyncDispose]() {
      await env.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Everything a test session needs, with its provider exposed. */
export interface TestSession {
  /** The session. */
  readonly session: Session;
  /** The scripted provider it calls. */
  readonly provider: ScriptedProvider;
  /** Every event the session emitted, in order (filled as they come). */
  readonly events: SessionEvent[];
  /** Resolves when the event stream ended (the session closed). */
  readonly ended: Promise<void>;
}

/** A session over a scripted provider, with its events collected from the start. */
export function scriptedSession(
  ws: Workspace,
  replies: readonly ScriptedReply[],
  config: Partial<SessionConfig> & { profile?: ProviderProfile } = {},
): TestSession {
  const provider = new ScriptedProvider(replies);
  const session = new Session({
    provider,
    profile: config.profile ?? anthropicProfile({ model: "test-model" }),
    env: ws.env,
    ...config,
  });
  return { session, provider, ...recordEvents(session) };
}

/**
 * Collects `session`'s events from now on: `events` fills as they come,
 * `ended` resolves when the stream ends (the session closed).
 */
export function recordEvents(
  session: Session,
): { readonly events: SessionEvent[]; readonly ended: Promise<void> } {
  const events: SessionEvent[] = [];
  const stream = session.events();
  const ended = (async () => {
    for await (const event of stream) events.push(event);
  })();
  return { events, ended };
}

/** The kinds of `events`, optionally without the streaming deltas. */
export function kinds(events: readonly SessionEvent[], withDeltas = false): string[] {
  return events
    .filter((e) =>
      withDeltas ||
      (e.kind !== "assistant_text_delta" && e.kind !== "assistant_text_start" &&
        e.kind !== "tool_call_output_delta")
    )
    .map((e) => e.kind);
}

export { RoutingProvider } from "../llm/routing.ts";
