/**
 * The v4a patch format of apply_patch (coding-agent-loop spec, Appendix A):
 * parsing into plain data, and applying update hunks to a file's text.
 * Errors name the file and the hunk.
 *
 * @module
 */

import { findLineSequence } from "./matching.ts";

/** A malformed patch, or a hunk that does not fit its file. */
export class PatchError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "PatchError" as const;

  /** Creates the error; `message` names the file, the hunk and what went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "PatchError";
  }
}

/** One "@@" block of an update. */
export interface Hunk {
  /** Text after "@@ ", if any: a line near the change used to find it. */
  readonly hint?: string;
  /** Lines the file has now (context and deletions, in order). */
  readonly oldLines: readonly string[];
  /** Lines the file will have (context and additions, in order). */
  readonly newLines: readonly string[];
  /** "*** End of File" followed the hunk: it must match at the end of the file. */
  readonly atEof: boolean;
}

/** One file operation of a patch. */
export type PatchOperation =
  | { readonly kind: "add"; readonly path: string; readonly lines: readonly string[] }
  | { readonly kind: "delete"; readonly path: string }
  | {
    readonly kind: "update";
    readonly path: string;
    readonly moveTo?: string;
    readonly hunks: readonly Hunk[];
  };

const BEGIN = "*** Begin Patch";
const END = "*** End Patch";
const ADD = "*** Add File: ";
const DELETE = "*** Delete File: ";
const UPDATE = "*** Update File: ";
const MOVE = "*** Move to: ";
const EOF_MARKER = "*** End of File";

/** Parses a v4a patch into operations; throws a PatchError naming the line. */
export function parsePatch(patch: string): PatchOperation[] {
  const lines = patch.replace(/\r\n/g, "\n").split("\n");
  while (lines.length && lines[0].trim() === "") lines.shift();
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines[0]?.trim() !== BEGIN) {
    throw new PatchError(`the patch must start with "${BEGIN}"`);
  }
  if (lines[lines.length - 1]?.trim() !== END || lines.length < 2) {
    throw new PatchError(`the patch must end with "${END}"`);
  }
  const body = lines.slice(1, -1);
  const ops: PatchOperation[] = [];
  let i = 0;
  const pathOf = (line: string, prefix: string): string => {
    const path = line.slice(prefix.length).trim();
    if (!path) throw new PatchError(`line ${i + 2}: "${prefix.trim()}" needs a path`);
    return path;
  };
  while (i < body.length) {
    const line = body[i];
    if (line.startsWith(ADD)) {
      const path = pathOf(line, ADD);
      const added: string[] = [];
      i++;
      while (i < body.length && !body[i].startsWith("*** ")) {
        if (!body[i].startsWith("+")) {
          throw new PatchError(
            `Add File ${path}: line ${i + 2} must start with "+" (got ${JSON.stringify(body[i])})`,
          );
        }
        added.push(body[i].slice(1));
        i++;
      }
      ops.push({ kind: "add", path, lines: added });
    } else if (line.startsWith(DELETE)) {
      ops.push({ kind: "delete", path: pathOf(line, DELETE) });
      i++;
    } else if (line.startsWith(UPDATE)) {
      const path = pathOf(line, UPDATE);
      i++;
      let moveTo: string | undefined;
      if (i < body.length && body[i].startsWith(MOVE)) {
        moveTo = pathOf(body[i], MOVE);
        i++;
      }
      const hunks: Hunk[] = [];
      while (i < body.length && !isOperationLine(body[i])) {
        let hint: string | undefined;
        if (body[i].startsWith("@@")) {
          hint = body[i].slice(2).trim() || undefined;
          i++;
        } else if (hunks.length > 0) {
          throw new PatchError(
            `Update File ${path}: line ${i + 2}: expected "@@" to start hunk ${
              hunks.length + 1
            }, ` +
              `got ${JSON.stringify(body[i])}`,
          );
        }
        const oldLines: string[] = [];
        const newLines: string[] = [];
        let atEof = false;
        let changed = 0;
        while (i < body.length && !body[i].startsWith("@@") && !isOperationLine(body[i])) {
          const l = body[i];
          if (l === EOF_MARKER) {
            atEof = true;
            i++;
            break;
          }
          const tag = l[0];
          if (tag === " " || l === "") {
            // An empty line is an empty context line whose leading space was stripped.
            oldLines.push(l.slice(1));
            newLines.push(l.slice(1));
          } else if (tag === "-") {
            oldLines.push(l.slice(1));
            changed++;
          } else if (tag === "+") {
            newLines.push(l.slice(1));
            changed++;
          } else {
            throw new PatchError(
              `Update File ${path}, hunk ${hunks.length + 1}: line ${i + 2} must start with ` +
                `" ", "-" or "+" (got ${JSON.stringify(l)})`,
            );
          }
          i++;
        }
        if (changed === 0 && oldLines.length === 0) {
          throw new PatchError(`Update File ${path}, hunk ${hunks.length + 1} is empty`);
        }
        hunks.push({ hint, oldLines, newLines, atEof });
      }
      if (hunks.length === 0 && !moveTo) {
        throw new PatchError(`Update File ${path} has no hunks`);
      }
      ops.push({ kind: "update", path, moveTo, hunks });
    } else if (line.trim() === "") {
      i++;
    } else {
      throw new PatchError(
        `line ${i + 2}: expected "*** Add File:", "*** Delete File:" or "*** Update File:", ` +
          `got ${JSON.stringify(line)}`,
      );
    }
  }
  if (ops.length === 0) throw new PatchError("the patch contains no operations");
  return ops;
}

function isOperationLine(line: string): boolean {
  return line.startsWith(ADD) || line.startsWith(DELETE) || line.startsWith(UPDATE) ||
    line.startsWith(MOVE);
}

function preview(lines: readonly string[]): string {
  const shown = lines.slice(0, 8).map((l) => `  ${l}`).join("\n");
  return lines.length > 8 ? `${shown}\n  … (${lines.length - 8} more lines)` : shown;
}

/**
 * Applies update hunks to `text`, in order, each searched after the
 * previous one. Returns the new text; keeps the file's line ending style
 * and its final newline (a file without one gets one only if it had one).
 */
export function applyHunks(path: string, text: string, hunks: readonly Hunk[]): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const endsWithNewline = text === "" || text.endsWith("\n");
  const lines = text.split(/\r?\n/);
  if (endsWithNewline) lines.pop();
  const edits: { start: number; length: number; replacement: readonly string[] }[] = [];
  let cursor = 0;
  hunks.forEach((hunk, n) => {
    const label = `Update File ${path}, hunk ${n + 1}${hunk.hint ? ` (@@ ${hunk.hint})` : ""}`;
    let from = cursor;
    let hintIndex: number | undefined;
    if (hunk.hint) {
      // The hint is a line at or just above the change; start looking there.
      const hinted = findLineSequence(lines, [hunk.hint], cursor);
      if (hinted) {
        hintIndex = hinted.indexes[0];
        from = hintIndex;
      }
    }
    if (hunk.oldLines.length === 0) {
      // Pure insertion: after the hint line when there is one, else at the end.
      const at = hintIndex !== undefined && !hunk.atEof ? hintIndex + 1 : lines.length;
      edits.push({ start: at, length: 0, replacement: hunk.newLines });
      cursor = at;
      return;
    }
    let found = findLineSequence(lines, hunk.oldLines, from, hunk.atEof);
    if (!found && from !== cursor) {
      found = findLineSequence(lines, hunk.oldLines, cursor, hunk.atEof);
    }
    if (!found) {
      throw new PatchError(
        `${label}: could not find these lines${hunk.atEof ? " at the end of the file" : ""}` +
          `${cursor > 0 ? ` after line ${cursor}` : ""}:\n${preview(hunk.oldLines)}`,
      );
    }
    const start = found.indexes[0];
    edits.push({ start, length: hunk.oldLines.length, replacement: hunk.newLines });
    cursor = start + hunk.oldLines.length;
  });
  for (const edit of [...edits].reverse()) {
    lines.splice(edit.start, edit.length, ...edit.replacement);
  }
  const joined = lines.join(eol);
  return endsWithNewline && lines.length ? joined + eol : joined;
}
