/**
 * write_file: writes a whole file, creating parent directories.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, ok } from "./define.ts";

/** The write_file tool. */
export function writeFileTool(): RegisteredTool {
  return defineTool({
    name: "write_file",
    description: "Write content to a file. Creates the file and parent directories if needed. " +
      "Replaces an existing file.",
    schema: z.object({
      file_path: z.string().min(1).describe(
        "Path of the file (absolute, or relative to the working directory)",
      ),
      content: z.string().describe("The full file content"),
    }),
    async execute(args, { env, signal }) {
      const result = await env.writeFile(args.file_path, args.content, signal);
      return ok(
        `${
          result.created ? "Created" : "Overwrote"
        } ${args.file_path} (${result.bytesWritten} bytes written).`,
      );
    },
  });
}
