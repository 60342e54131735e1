/**
 * edit_file: exact search-and-replace. One match is required unless
 * replace_all is set; when the exact text is absent, whole lines that match
 * after whitespace/Unicode normalisation are accepted if the match is unique.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, fail, ok } from "./define.ts";
import { findLineSequence } from "./matching.ts";

/** Counts non-overlapping occurrences of `needle` in `text`. */
export function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    count++;
  }
  return count;
}

/**
 * The exact text to look for in `text` and what replaces it. In a CRLF file
 * the model's strings have bare "\n" (read_file shows lines without "\r"),
 * so when `oldText` is absent as given its line breaks are matched as
 * "\r\n"; and in a CRLF file the replacement's line breaks are written as
 * "\r\n", so an edit never leaves a file with mixed line endings.
 */
function exactForm(
  text: string,
  oldText: string,
  newText: string,
): { find: string; replacement: string; count: number } {
  if (!text.includes("\r\n")) {
    return { find: oldText, replacement: newText, count: countOccurrences(text, oldText) };
  }
  const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
  const replacement = crlf(newText);
  const asGiven = countOccurrences(text, oldText);
  if (asGiven > 0 || !oldText.includes("\n")) {
    return { find: oldText, replacement, count: asGiven };
  }
  const find = crlf(oldText);
  return { find, replacement, count: countOccurrences(text, find) };
}

/** The edit_file tool. */
export function editFileTool(): RegisteredTool {
  return defineTool({
    name: "edit_file",
    description:
      "Replace an exact string occurrence in a file. old_string must match exactly one " +
      "location unless replace_all is true; include enough surrounding lines to make it unique.",
    schema: z.object({
      file_path: z.string().min(1).describe(
        "Path of the file (absolute, or relative to the working directory)",
      ),
      old_string: z.string().min(1).describe("Exact text to find"),
      new_string: z.string().describe("Replacement text"),
      replace_all: z.boolean().optional().describe("Replace every occurrence (default false)"),
    }),
    async execute(args, { env, signal }) {
      const { file_path: path, old_string: oldText } = args;
      if (oldText === args.new_string) {
        return fail("old_string and new_string are identical; nothing to change.");
      }
      const file = await env.readFile(path, { signal });
      if (file.kind !== "text") return fail(`${path} is a binary file; edit_file only edits text.`);
      const text = file.text;
      const { find, replacement: newText, count } = exactForm(text, oldText, args.new_string);
      if (count > 1 && !args.replace_all) {
        return fail(
          `old_string matches ${count} locations in ${path}; provide more surrounding context to ` +
            `make it unique, or set replace_all to true.`,
        );
      }
      if (count >= 1) {
        const updated = args.replace_all
          ? text.split(find).join(newText)
          : text.replace(find, () => newText);
        await env.writeFile(path, updated, signal);
        return ok(`Edited ${path}: ${count} replacement${count === 1 ? "" : "s"} made.`);
      }
      // Not found exactly: try whole lines under looser comparison.
      const eol = text.includes("\r\n") ? "\r\n" : "\n";
      const lines = text.split(/\r?\n/);
      const wanted = oldText.split(/\r?\n/);
      if (wanted[wanted.length - 1] === "") wanted.pop();
      const found = findLineSequence(lines, wanted);
      if (!found) {
        return fail(
          `old_string was not found in ${path} (not even ignoring whitespace differences). ` +
            `Read the file again and copy the text exactly.`,
        );
      }
      const starts: number[] = [];
      for (const index of found.indexes) {
        if (!starts.length || index >= starts[starts.length - 1] + wanted.length) {
          starts.push(index);
        }
      }
      if (starts.length > 1 && !args.replace_all) {
        return fail(
          `old_string matches ${starts.length} locations in ${path} after normalising ` +
            `whitespace; provide more context to make it unique.`,
        );
      }
      const replacement = args.new_string.split(/\r?\n/);
      if (oldText.endsWith("\n") && replacement[replacement.length - 1] === "") replacement.pop();
      for (const index of [...starts].reverse()) {
        lines.splice(index, wanted.length, ...replacement);
      }
      await env.writeFile(path, lines.join(eol), signal);
      return ok(
        `Edited ${path}: ${starts.length} replacement${
          starts.length === 1 ? "" : "s"
        } made (old_string matched after normalising ${
          found.level === "unicode" ? "whitespace and Unicode punctuation" : "whitespace"
        }).`,
      );
    },
  });
}
