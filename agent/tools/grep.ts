/**
 * grep: regular-expression search over file contents.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, ok } from "./define.ts";
import { displayPath } from "./paths.ts";

/** The grep tool. */
export function grepTool(): RegisteredTool {
  return defineTool({
    name: "grep",
    // The spec's sentence first (§3.3), then what is ours: the regex dialect, the output.
    description: "Search file contents using regex patterns. " +
      "Patterns use JavaScript regular expression syntax. " +
      "Returns matching lines as path:line:text.",
    schema: z.object({
      pattern: z.string().min(1).describe("Regular expression to search for"),
      path: z.string().optional().describe(
        "File or directory to search (default: working directory)",
      ),
      glob_filter: z.string().optional().describe(
        'Only search files matching this glob, e.g. "*.py" (name) or "src/**/*.ts" (path)',
      ),
      case_insensitive: z.boolean().optional().describe("Ignore case (default false)"),
      max_results: z.number().int().min(1).max(10_000).optional().describe(
        "Maximum matching lines (default 100)",
      ),
    }),
    async execute(args, { env, signal }) {
      const maxResults = args.max_results ?? 100;
      const result = await env.grep(args.pattern, args.path ?? ".", {
        globFilter: args.glob_filter,
        caseInsensitive: args.case_insensitive,
        maxResults,
        signal,
      });
      if (result.matches.length === 0) return ok(`No matches for /${args.pattern}/.`);
      const cwd = env.workingDirectory();
      const lines = result.matches.map((m) => `${displayPath(m.path, cwd)}:${m.line}:${m.text}`);
      if (result.truncated) {
        lines.push(
          `[Stopped at max_results=${maxResults}; narrow the pattern or path to see more.]`,
        );
      }
      return ok(lines.join("\n"));
    },
  });
}
