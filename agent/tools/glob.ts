/**
 * glob: files by name pattern, newest modification first.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, ok } from "./define.ts";
import { displayPath } from "./paths.ts";

/** The glob tool. */
export function globTool(): RegisteredTool {
  return defineTool({
    name: "glob",
    // The spec's sentence first (§3.3), then an example and the order.
    description: 'Find files matching a glob pattern. Example: "**/*.ts". ' +
      "Returns paths sorted by modification time, newest first.",
    schema: z.object({
      pattern: z.string().min(1).describe(
        "Glob pattern; without a slash it matches file names at any depth",
      ),
      path: z.string().optional().describe("Base directory (default: working directory)"),
    }),
    async execute(args, { env, signal }) {
      const paths = await env.glob(args.pattern, args.path ?? ".", { signal });
      if (paths.length === 0) return ok(`No files match ${args.pattern}.`);
      const cwd = env.workingDirectory();
      return ok(paths.map((p) => displayPath(p, cwd)).join("\n"));
    },
  });
}
