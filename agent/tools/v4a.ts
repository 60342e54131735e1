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
  /**
   * For each of `newLines`, the index in `oldLines` of the same context line,
   * or -1 for an added line. Context lines are unchanged lines: when the hunk
   * matched loosely, they keep the file's own text rather than the patch's.
   */
  readonly contextOf?: readonly number[];
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

/** A heredoc opener as models wrap patches: `<<'EOF'`, `<<"EOF"`, `<<EOF`, also after `apply_patch`. */
const HEREDOC_OPEN = /^\s*(?:apply_patch\s+)?<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1\s*$/;

/**
 * The patch without a shell heredoc around it (`<<'EOF'` … `EOF`, also
 * `apply_patch <<"EOF"` … `EOF`): models trained on shell use send that.
 * The closing line must name the same delimiter.
 */
function unwrapHeredoc(lines: string[]): string[] {
  const open = lines[0]?.match(HEREDOC_OPEN);
  if (!open) return lines;
  const delimiter = open[2];
  if (lines.length < 2 || lines[lines.length - 1].trim() !== delimiter) {
    throw new PatchError(
      `the patch opens a heredoc with ${
        JSON.stringify(lines[0].trim())
      } but does not end with a line "${delimiter}"`,
    );
  }
  const inner = lines.slice(1, -1);
  while (inner.length && inner[0].trim() === "") inner.shift();
  while (inner.length && inner[inner.length - 1].trim() === "") inner.pop();
  return inner;
}

/** The operation a line opens, if it is an operation header (leading spaces allowed). */
function headerOf(line: string): { prefix: string; rest: string } | undefined {
  const trimmed = line.trimStart();
  if (!trimmed.startsWith("*** ")) return undefined;
  for (const prefix of [ADD, DELETE, UPDATE, MOVE]) {
    if (trimmed.startsWith(prefix)) return { prefix, rest: trimmed.slice(prefix.length) };
  }
  return undefined;
}

/**
 * Parses a v4a patch into operations; throws a PatchError naming the line.
 * Lenient where models commonly slip, strict where a guess could be wrong:
 * a heredoc wrapper, spaces around the Begin/End markers and before
 * operation headers, and blank lines between hunks (e.g. after
 * `*** End of File`) are accepted; a line of unknown kind is an error.
 */
export function parsePatch(patch: string): PatchOperation[] {
  let lines = patch.replace(/\r\n/g, "\n").split("\n");
  while (lines.length && lines[0].trim() === "") lines.shift();
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
  lines = unwrapHeredoc(lines);
  if (lines[0]?.trim() !== BEGIN) {
    throw new PatchError(`the patch must start with "${BEGIN}"`);
  }
  if (lines[lines.length - 1]?.trim() !== END || lines.length < 2) {
    throw new PatchError(`the patch must end with "${END}"`);
  }
  const body = lines.slice(1, -1);
  const ops: PatchOperation[] = [];
  let i = 0;
  const pathOf = (rest: string, prefix: string): string => {
    const path = rest.trim();
    if (!path) throw new PatchError(`line ${i + 2}: "${prefix.trim()}" needs a path`);
    return path;
  };
  while (i < body.length) {
    const line = body[i];
    const header = headerOf(line);
    if (header?.prefix === ADD) {
      const path = pathOf(header.rest, ADD);
      const added: string[] = [];
      i++;
      while (i < body.length && headerOf(body[i]) === undefined) {
        if (!body[i].startsWith("+")) {
          if (body[i].trim() === "") {
            // Blank lines before the next operation separate; between "+" lines
            // they are empty lines whose "+" the model left out.
            if (restIsBlankOrHeader(body, i)) break;
            added.push("");
            i++;
            continue;
          }
          throw new PatchError(
            `Add File ${path}: line ${i + 2} must start with "+" (got ${JSON.stringify(body[i])})`,
          );
        }
        added.push(body[i].slice(1));
        i++;
      }
      ops.push({ kind: "add", path, lines: added });
    } else if (header?.prefix === DELETE) {
      ops.push({ kind: "delete", path: pathOf(header.rest, DELETE) });
      i++;
    } else if (header?.prefix === UPDATE) {
      const path = pathOf(header.rest, UPDATE);
      i++;
      let moveTo: string | undefined;
      const move = i < body.length ? headerOf(body[i]) : undefined;
      if (move?.prefix === MOVE) {
        moveTo = pathOf(move.rest, MOVE);
        i++;
      }
      const hunks: Hunk[] = [];
      while (i < body.length && headerOf(body[i]) === undefined) {
        // Blank lines between hunks (after "*** End of File", say) separate them.
        if (hunks.length > 0 && body[i].trim() === "") {
          i++;
          continue;
        }
        let hint: string | undefined;
        // "@@" opens a hunk only at the start of the line: " @@…" is a context line.
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
        const contextOf: number[] = [];
        let atEof = false;
        let changed = 0;
        while (
          i < body.length && !body[i].startsWith("@@") &&
          headerOf(body[i]) === undefined
        ) {
          const l = body[i];
          if (l.trim() === EOF_MARKER) {
            atEof = true;
            i++;
            break;
          }
          const tag = l[0];
          if (tag === " " || l === "") {
            // An empty line is an empty context line whose leading space was stripped.
            contextOf.push(oldLines.length);
            oldLines.push(l.slice(1));
            newLines.push(l.slice(1));
          } else if (tag === "-") {
            oldLines.push(l.slice(1));
            changed++;
          } else if (tag === "+") {
            contextOf.push(-1);
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
        if (changed === 0 && oldLines.every((l) => l.trim() === "")) {
          throw new PatchError(`Update File ${path}, hunk ${hunks.length + 1} is empty`);
        }
        hunks.push({ hint, oldLines, newLines, contextOf, atEof });
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

/** Whether every line from `i` on, up to the next header or the end, is blank. */
function restIsBlankOrHeader(body: readonly string[], i: number): boolean {
  for (let j = i; j < body.length; j++) {
    if (headerOf(body[j]) !== undefined) return true;
    if (body[j].trim() !== "") return false;
  }
  return true;
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
    let oldLines = hunk.oldLines;
    let newLines = hunk.newLines;
    let contextOf = hunk.contextOf;
    const find = () => {
      const at = findLineSequence(lines, oldLines, from, hunk.atEof);
      return at || from === cursor ? at : findLineSequence(lines, oldLines, cursor, hunk.atEof);
    };
    let found = find();
    // Models often end a hunk with a blank context line the file does not
    // have there (the blank before "*** End Patch"): retry without it.
    while (
      !found && oldLines.length > 1 && oldLines.at(-1)!.trim() === "" &&
      newLines.at(-1)?.trim() === ""
    ) {
      oldLines = oldLines.slice(0, -1);
      newLines = newLines.slice(0, -1);
      // A context line may have been the old line just dropped: it is no longer context.
      const kept = oldLines.length;
      contextOf = contextOf?.slice(0, -1).map((i) => (i < kept ? i : -1));
      found = find();
    }
    if (!found) {
      throw new PatchError(
        `${label}: could not find these lines${hunk.atEof ? " at the end of the file" : ""}` +
          `${cursor > 0 ? ` after line ${cursor}` : ""}:\n${preview(hunk.oldLines)}`,
      );
    }
    const start = found.indexes[0];
    // A loose match (whitespace, Unicode punctuation) must not rewrite the lines the
    // patch only quotes as context: tabs, trailing blanks and quotes stay the file's.
    const replacement = contextOf
      ? newLines.map((line, k) => (contextOf[k] >= 0 ? lines[start + contextOf[k]] : line))
      : newLines;
    edits.push({ start, length: oldLines.length, replacement });
    cursor = start + oldLines.length;
  });
  for (const edit of [...edits].reverse()) {
    lines.splice(edit.start, edit.length, ...edit.replacement);
  }
  const joined = lines.join(eol);
  return endsWithNewline && lines.length ? joined + eol : joined;
}
