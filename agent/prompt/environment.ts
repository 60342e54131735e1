/**
 * The environment context block of the system prompt (coding-agent-loop spec
 * §6.3, §6.4): working directory, platform, date, model, and a git snapshot
 * (branch, short status, recent commits) taken once at session start through
 * the session's own execution environment.
 *
 * @module
 */
import type { ExecutionEnvironment } from "../env/types.ts";

/** A snapshot of the workspace's git state. */
export interface GitSnapshot {
  /** The repository's top-level directory, in the working directory's terms (symlinks kept). */
  readonly root: string;
  /** The current branch; empty on a detached head. */
  readonly branch: string;
  /** Files with changes to tracked content (staged or not). */
  readonly modified: number;
  /** Untracked files. */
  readonly untracked: number;
  /** The last commits, newest first, "<hash> <subject>". */
  readonly recentCommits: readonly string[];
}

/** What the environment block says. */
export interface EnvironmentContext {
  /** Absolute working directory. */
  readonly workingDirectory: string;
  /** "linux", "darwin", ... */
  readonly platform: string;
  /** Operating system version. */
  readonly osVersion: string;
  /** Today's date, YYYY-MM-DD. */
  readonly date: string;
  /** The model's id. */
  readonly model: string;
  /** The model's knowledge cutoff, when the profile knows it. */
  readonly knowledgeCutoff?: string;
  /** Git state, when the working directory is inside a repository. */
  readonly git?: GitSnapshot;
}

const GIT_SCRIPT = [
  "git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 3",
  'echo "@root $(git rev-parse --show-toplevel)"',
  'echo "@prefix $(git rev-parse --show-prefix)"',
  'echo "@branch $(git branch --show-current 2>/dev/null)"',
  "echo @status",
  "git status --porcelain 2>/dev/null",
  "echo @log",
  "git log --oneline -n 8 2>/dev/null",
].join("; ");

/** Reads the git state of the environment's working directory; undefined outside a repository. */
export async function gitSnapshot(
  env: ExecutionEnvironment,
  signal?: AbortSignal,
): Promise<GitSnapshot | undefined> {
  let stdout: string;
  try {
    const result = await env.execCommand({ command: GIT_SCRIPT, timeoutMs: 5_000, signal });
    if (result.exitCode !== 0 || result.timedOut) return undefined;
    stdout = result.stdout;
  } catch {
    return undefined; // no git, or the environment refuses to run it: no git context
  }
  let root = "", prefix = "", branch = "", section = "";
  let modified = 0, untracked = 0;
  const commits: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("@root ")) root = line.slice(6).trim();
    else if (line.startsWith("@prefix")) prefix = line.slice(7).trim();
    else if (line.startsWith("@branch")) branch = line.slice(7).trim();
    else if (line === "@status" || line === "@log") section = line;
    else if (line.length === 0) continue;
    else if (section === "@status") line.startsWith("??") ? untracked++ : modified++;
    else if (section === "@log") commits.push(line);
  }
  root = rootAsSeenFrom(env.workingDirectory(), root, prefix);
  return { root, branch, modified, untracked, recentCommits: commits };
}

/**
 * The repository root in the working directory's own terms. Git reports the
 * resolved top level, but a working directory reached through a symlink
 * (macOS's /tmp, a linked checkout) does not start with it, so project
 * documents would be looked for in the working directory alone. When the
 * working directory ends with git's prefix (its path inside the repository),
 * dropping that prefix gives the root as the session sees it.
 */
function rootAsSeenFrom(cwd: string, toplevel: string, prefix: string): string {
  const parts = cwd.split("/").filter(Boolean);
  const inside = prefix.split("/").filter(Boolean);
  if (inside.length > parts.length) return toplevel;
  const tail = parts.slice(parts.length - inside.length);
  if (tail.join("/") !== inside.join("/")) return toplevel;
  return "/" + parts.slice(0, parts.length - inside.length).join("/");
}

/** Gathers the environment context of a session. */
export async function gatherEnvironmentContext(
  env: ExecutionEnvironment,
  model: string,
  options: { knowledgeCutoff?: string; now?: Date; signal?: AbortSignal } = {},
): Promise<EnvironmentContext> {
  return {
    workingDirectory: env.workingDirectory(),
    platform: env.platform(),
    osVersion: env.osVersion(),
    date: (options.now ?? new Date()).toISOString().slice(0, 10),
    model,
    knowledgeCutoff: options.knowledgeCutoff,
    git: await gitSnapshot(env, options.signal),
  };
}

/** Renders the `<environment>` block, with the git snapshot when there is one. */
export function renderEnvironment(ctx: EnvironmentContext): string {
  const lines = [
    "<environment>",
    `Working directory: ${ctx.workingDirectory}`,
    `Is git repository: ${ctx.git ? "true" : "false"}`,
  ];
  if (ctx.git) lines.push(`Git branch: ${ctx.git.branch || "(detached)"}`);
  lines.push(
    `Platform: ${ctx.platform}`,
    `OS version: ${ctx.osVersion}`,
    `Today's date: ${ctx.date}`,
    `Model: ${ctx.model}`,
  );
  if (ctx.knowledgeCutoff) lines.push(`Knowledge cutoff: ${ctx.knowledgeCutoff}`);
  lines.push("</environment>");
  if (ctx.git) {
    lines.push(
      "",
      "<git>",
      `Repository root: ${ctx.git.root}`,
      `Status: ${ctx.git.modified} modified, ${ctx.git.untracked} untracked`,
    );
    if (ctx.git.recentCommits.length) {
      lines.push("Recent commits:", ...ctx.git.recentCommits.map((c) => `  ${c}`));
    }
    lines.push("</git>");
  }
  return lines.join("\n");
}
