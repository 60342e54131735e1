/**
 * The gemini-cli tools beyond the shared core: list_dir and read_many_files.
 *
 * @module
 */
import { z } from "zod";
import { defineTool, fail, ok } from "../tools/define.ts";
import { numberLines } from "../tools/read_file.ts";
import type { RegisteredTool } from "../tools/types.ts";

/** list_dir: a directory listing down to a depth. */
export function listDirTool(): RegisteredTool {
  return defineTool({
    name: "list_dir",
    description: "List a directory's entries (directories end with /), down to a depth.",
    schema: z.object({
      path: z.string().optional().describe("directory (default: working directory)"),
      depth: z.number().int().min(1).max(10).optional().describe("levels to list (default 1)"),
    }),
    async execute(args, { env, signal }) {
      const entries = await env.listDirectory(
        args.path ?? env.workingDirectory(),
        args.depth ?? 1,
        signal,
      );
      if (entries.length === 0) return ok("(empty directory)");
      return ok(entries.map((e) => (e.isDir ? `${e.name}/` : e.name)).join("\n"));
    },
  });
}

/** read_many_files: several files at once, each with line numbers. */
export function readManyFilesTool(): RegisteredTool {
  return defineTool({
    name: "read_many_files",
    description: "Read several files at once. Returns each file's line-numbered content.",
    schema: z.object({
      paths: z.array(z.string().min(1)).min(1).max(50).describe("files to read"),
    }),
    async execute(args, { env, signal }) {
      const parts: string[] = [];
      let failed = 0;
      for (const path of args.paths) {
        try {
          const file = await env.readFile(path, { signal });
          parts.push(
            file.kind === "text"
              ? `--- ${file.path}\n${numberLines(file.text, file.startLine)}`
              : `--- ${file.path}\n[binary file, ${file.size} bytes]`,
          );
        } catch (error) {
          failed++;
          parts.push(`--- ${path}\n[error: ${(error as Error).message}]`);
        }
      }
      const text = parts.join("\n\n");
      return failed === args.paths.length ? fail(text) : ok(text);
    },
  });
}
