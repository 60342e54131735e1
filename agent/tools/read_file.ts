/**
 * read_file: a file's lines, numbered "NNN | text", with offset/limit
 * windows; images are handed back as image data, other binaries refused.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, fail, ok } from "./define.ts";
import { splitLines } from "../env/text.ts";

/** Lines returned when the call gives no limit (spec: 2000). */
export const DEFAULT_READ_LIMIT = 2000;

/**
 * Formats lines as "NNN | text", numbers right-aligned to the widest. A
 * final newline does not make an extra empty line; carriage returns go.
 * Pass `lineCount` for a window from `readFile`, whose last line may be empty.
 */
export function numberLines(text: string, firstLine: number, lineCount?: number): string {
  // With a known count the text is exactly that many lines joined by "\n" (a window).
  const lines = lineCount === undefined ? splitLines(text) : text.split("\n").slice(0, lineCount);
  if (lines.length === 0) return "";
  const width = String(firstLine + lines.length - 1).length;
  return lines.map((line, i) => `${String(firstLine + i).padStart(width)} | ${line}`).join("\n");
}

/** The read_file tool. */
export function readFileTool(): RegisteredTool {
  return defineTool({
    name: "read_file",
    description: "Read a file from the filesystem. Returns line-numbered content.",
    schema: z.object({
      file_path: z.string().min(1).describe(
        "Path of the file (absolute, or relative to the working directory)",
      ),
      offset: z.number().int().min(1).optional().describe(
        "1-based line number to start reading from",
      ),
      limit: z.number().int().min(1).optional().describe(
        `Maximum number of lines to read (default ${DEFAULT_READ_LIMIT})`,
      ),
    }),
    async execute(args, { env, signal }) {
      const file = await env.readFile(args.file_path, {
        offset: args.offset ?? 1,
        limit: args.limit ?? DEFAULT_READ_LIMIT,
        signal,
      });
      if (file.kind === "binary") {
        if (file.mediaType && file.data) {
          return {
            content:
              `${args.file_path} is an image (${file.mediaType}, ${file.size} bytes); its data is attached.`,
            isError: false,
            image: { mediaType: file.mediaType, data: file.data },
          };
        }
        return fail(
          `${args.file_path} is a binary file (${
            file.mediaType ?? "unknown type"
          }, ${file.size} bytes); ` +
            `read_file only shows text.`,
        );
      }
      if (file.totalLines === 0) return ok(`${args.file_path} is empty.`);
      if (file.lineCount === 0) {
        return fail(
          `offset ${file.startLine} is past the end of ${args.file_path}, which has ${file.totalLines} lines.`,
        );
      }
      const last = file.startLine + file.lineCount - 1;
      const body = numberLines(file.text, file.startLine, file.lineCount);
      const more = last < file.totalLines
        ? `\n[Showing lines ${file.startLine}-${last} of ${file.totalLines}. Use offset=${
          last + 1
        } to read more.]`
        : "";
      return ok(body + more);
    },
  });
}
