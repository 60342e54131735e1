/**
 * apply_patch: creates, deletes, updates and moves files from a v4a patch.
 * Every operation is checked (parsed, files read, hunks located) before
 * anything is written, so a bad patch changes nothing.
 *
 * @module
 */

import { z } from "zod";
import type { ExecutionEnvironment } from "../env/types.ts";
import type { RegisteredTool } from "./types.ts";
import { defineTool, fail, ok } from "./define.ts";
import { applyHunks, parsePatch, PatchError } from "./v4a.ts";

/** One verified change of a patch, ready to write. */
export type PlannedChange =
  | {
    readonly kind: "write";
    readonly path: string;
    readonly content: string;
    readonly tag: "A" | "M";
  }
  | { readonly kind: "delete"; readonly path: string }
  | { readonly kind: "move"; readonly from: string; readonly to: string; readonly content: string };

async function readText(
  env: ExecutionEnvironment,
  path: string,
  signal: AbortSignal,
): Promise<string> {
  const file = await env.readFile(path, { signal });
  if (file.kind !== "text") {
    throw new PatchError(`${path} is a binary file; apply_patch edits text only`);
  }
  return file.text;
}

/** Checks a whole patch against the files and returns the changes to make. */
export async function planPatch(
  env: ExecutionEnvironment,
  patch: string,
  signal: AbortSignal,
): Promise<PlannedChange[]> {
  const planned: PlannedChange[] = [];
  const touched = new Set<string>();
  const claim = (path: string): void => {
    if (touched.has(path)) {
      throw new PatchError(`${path} appears in more than one operation of the patch`);
    }
    touched.add(path);
  };
  for (const op of parsePatch(patch)) {
    claim(op.path);
    if (op.kind === "add") {
      if (await env.fileExists(op.path, signal)) {
        throw new PatchError(`Add File ${op.path}: the file already exists; use Update File`);
      }
      const content = op.lines.length ? op.lines.join("\n") + "\n" : "";
      planned.push({ kind: "write", path: op.path, content, tag: "A" });
    } else if (op.kind === "delete") {
      if (!(await env.fileExists(op.path, signal))) {
        throw new PatchError(`Delete File ${op.path}: the file does not exist`);
      }
      planned.push({ kind: "delete", path: op.path });
    } else {
      if (!(await env.fileExists(op.path, signal))) {
        throw new PatchError(`Update File ${op.path}: the file does not exist`);
      }
      const content = applyHunks(op.path, await readText(env, op.path, signal), op.hunks);
      if (op.moveTo && op.moveTo !== op.path) {
        claim(op.moveTo);
        if (await env.fileExists(op.moveTo, signal)) {
          throw new PatchError(
            `Update File ${op.path}: Move to ${op.moveTo}: the target already exists`,
          );
        }
        planned.push({ kind: "move", from: op.path, to: op.moveTo, content });
      } else {
        planned.push({ kind: "write", path: op.path, content, tag: "M" });
      }
    }
  }
  return planned;
}

/** What the model reads about apply_patch: the format, what is tolerated and what is refused. */
export const APPLY_PATCH_DESCRIPTION = [
  "Apply code changes using the patch format. Supports creating, deleting, and modifying files " +
  'in a single operation. The patch starts with "*** Begin Patch" and ends with "*** End Patch"; ' +
  'operations are "*** Add File: <path>" (every line prefixed "+"), "*** Delete File: <path>", ' +
  'and "*** Update File: <path>" (optionally followed by "*** Move to: <path>") with ' +
  '"@@ <nearby line>" hunks of " " context, "-" removed and "+" added lines; ' +
  '"*** End of File" after a hunk anchors it at the end of the file.',
  "Rules: the whole patch is checked against the files before anything is written, so a patch " +
  "that fails changes nothing. Add File refuses a path that exists and Move to refuses a target " +
  "that exists (use Update File / Delete File instead). A file without a final newline keeps " +
  "it that way; line endings are kept.",
  "Tolerated: the patch wrapped in a heredoc (<<'EOF' … EOF), spaces around the markers and " +
  "before operation headers, blank lines between hunks, and a trailing blank context line the " +
  "file does not have.",
].join(" ");

/** The apply_patch tool. */
export function applyPatchTool(): RegisteredTool {
  return defineTool({
    name: "apply_patch",
    description: APPLY_PATCH_DESCRIPTION,
    schema: z.object({
      patch: z.string().min(1).describe("The patch content in v4a format"),
    }),
    async execute(args, { env, signal }) {
      let planned: PlannedChange[];
      try {
        planned = await planPatch(env, args.patch, signal);
      } catch (error) {
        if (error instanceof PatchError) {
          return fail(`apply_patch failed, nothing was changed: ${error.message}`);
        }
        throw error;
      }
      const done: string[] = [];
      try {
        for (const change of planned) {
          if (change.kind === "write") {
            await env.writeFile(change.path, change.content, signal);
            done.push(`${change.tag} ${change.path}`);
          } else if (change.kind === "delete") {
            await env.deleteFile(change.path, signal);
            done.push(`D ${change.path}`);
          } else {
            await env.writeFile(change.from, change.content, signal);
            await env.moveFile(change.from, change.to, signal);
            done.push(`M ${change.from} -> ${change.to}`);
          }
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return fail(
          `apply_patch stopped part-way: ${message}\n` +
            (done.length ? `Already applied:\n${done.join("\n")}` : "Nothing was changed."),
        );
      }
      return ok(`Success. Updated the following files:\n${done.join("\n")}`);
    },
  });
}
