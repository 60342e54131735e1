/**
 * Project instruction files (coding-agent-loop spec §6.5): walking from the
 * git root (or the working directory outside a repository) down to the
 * working directory, each directory's AGENTS.md and the active provider's own
 * file are loaded, root first, within a total byte budget.
 *
 * @module
 */
import type { ExecutionEnvironment } from "../env/types.ts";

/** The spec's budget for all project instructions together. */
export const PROJECT_DOCS_BUDGET_BYTES = 32 * 1024;

/** The marker appended when the budget cut the instructions short. */
export const PROJECT_DOCS_TRUNCATED_MARKER = "[Project instructions truncated at 32KB]";

/** The instruction files a provider reads, besides AGENTS.md (always read, first). */
export const PROVIDER_DOC_FILES: Readonly<Record<string, readonly string[]>> = {
  anthropic: ["CLAUDE.md"],
  gemini: ["GEMINI.md"],
  openai: [".codex/instructions.md"],
};

/** One loaded instruction file. */
export interface ProjectDoc {
  /** Absolute path. */
  readonly path: string;
  /** Its text (possibly cut by the budget). */
  readonly content: string;
}

/** The files a profile reads: AGENTS.md first, then the provider's own. */
export function projectDocNames(profileId: string): string[] {
  return ["AGENTS.md", ...(PROVIDER_DOC_FILES[profileId] ?? [])];
}

/** Directories from `root` down to `cwd` inclusive; just `cwd` when it is not inside `root`. */
export function directoriesFromRoot(root: string, cwd: string): string[] {
  const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/, "") : p);
  const r = trim(root), c = trim(cwd);
  if (c !== r && !c.startsWith(r === "/" ? "/" : `${r}/`)) return [c];
  const dirs = [r];
  const rest = c.slice(r.length).split("/").filter(Boolean);
  let current = r;
  for (const part of rest) {
    current = current === "/" ? `/${part}` : `${current}/${part}`;
    dirs.push(current);
  }
  return dirs;
}

/**
 * Loads the instruction files `names` from each directory between `root` and
 * the environment's working directory. Stops at `budgetBytes` (UTF-8) and
 * marks the cut with {@link PROJECT_DOCS_TRUNCATED_MARKER}.
 */
export async function discoverProjectDocs(
  env: ExecutionEnvironment,
  names: readonly string[],
  options: { root?: string; budgetBytes?: number; signal?: AbortSignal } = {},
): Promise<{ docs: ProjectDoc[]; truncated: boolean }> {
  const cwd = env.workingDirectory();
  const budget = options.budgetBytes ?? PROJECT_DOCS_BUDGET_BYTES;
  const encoder = new TextEncoder();
  const docs: ProjectDoc[] = [];
  let used = 0;
  for (const dir of directoriesFromRoot(options.root ?? cwd, cwd)) {
    for (const name of names) {
      const path = dir === "/" ? `/${name}` : `${dir}/${name}`;
      let text: string;
      try {
        if (!(await env.fileExists(path, options.signal))) continue;
        const file = await env.readFile(path, { signal: options.signal });
        if (file.kind !== "text") continue;
        text = file.text;
      } catch {
        continue; // unreadable or outside what the environment allows: not an instruction file
      }
      const bytes = encoder.encode(text);
      if (used + bytes.length > budget) {
        const room = budget - used;
        // Cut on a character boundary: decode a prefix, dropping a partial last character.
        const cut = new TextDecoder().decode(bytes.slice(0, Math.max(0, room))).replace(
          /\uFFFD$/,
          "",
        );
        if (cut.length) docs.push({ path, content: cut });
        return { docs, truncated: true };
      }
      used += bytes.length;
      docs.push({ path, content: text });
    }
  }
  return { docs, truncated: false };
}

/** Renders loaded instruction files as one prompt section. */
export function renderProjectDocs(docs: readonly ProjectDoc[], truncated: boolean): string {
  if (docs.length === 0) return "";
  const parts = docs.map((d) =>
    `<project_instructions path="${d.path}">\n${d.content}\n</project_instructions>`
  );
  if (truncated) parts.push(PROJECT_DOCS_TRUNCATED_MARKER);
  return parts.join("\n\n");
}
