/**
 * Decoding file bytes for the model: binary detection, image recognition and
 * line windows. Shared by every environment so they answer alike.
 *
 * @module
 */

import type { FileContent } from "./types.ts";
import { InvalidArgumentError } from "./types.ts";

/** Images up to this size are returned as bytes for multimodal models. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const IMAGE_MAGIC: ReadonlyArray<readonly [string, readonly number[]]> = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["image/webp", [0x52, 0x49, 0x46, 0x46]], // "RIFF"; refined below by "WEBP" at offset 8
];

/** Recognises PNG, JPEG, GIF and WebP by their magic bytes. */
export function imageMediaType(bytes: Uint8Array): string | undefined {
  for (const [type, magic] of IMAGE_MAGIC) {
    if (bytes.length < magic.length) continue;
    if (!magic.every((b, i) => bytes[i] === b)) continue;
    if (type === "image/webp") {
      const tag = new TextDecoder().decode(bytes.subarray(8, 12));
      if (tag !== "WEBP") continue;
    }
    return type;
  }
  return undefined;
}

/**
 * Whether bytes look binary: a NUL byte in the first 8 KiB, or text that is
 * not valid UTF-8 there (the same heuristic git and ripgrep use, roughly).
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return true;
  try {
    // A multi-byte character cut at the sample's end is not a reason to call it binary.
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** Splits text into lines; a trailing newline does not add an empty last line. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
}

/** Validates an offset/limit pair and returns the defaults filled in. */
export function checkWindow(offset?: number, limit?: number): { offset: number; limit: number } {
  const o = offset ?? 1;
  const l = limit ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(o) || o < 1) {
    throw new InvalidArgumentError(`offset must be an integer >= 1, got ${offset}`, "offset");
  }
  if (l !== Number.POSITIVE_INFINITY && (!Number.isInteger(l) || l < 1)) {
    throw new InvalidArgumentError(`limit must be an integer >= 1, got ${limit}`, "limit");
  }
  return { offset: o, limit: l };
}

/** Turns a file's bytes into {@linkcode FileContent}, selecting a line window. */
export function decodeFile(
  path: string,
  bytes: Uint8Array,
  offset?: number,
  limit?: number,
): FileContent {
  const window = checkWindow(offset, limit);
  const mediaType = imageMediaType(bytes);
  if (mediaType || looksBinary(bytes)) {
    return {
      kind: "binary",
      path,
      size: bytes.length,
      mediaType,
      data: mediaType && bytes.length <= MAX_IMAGE_BYTES ? bytes : undefined,
    };
  }
  const whole = new TextDecoder().decode(bytes);
  const lines = splitLines(whole);
  if (offset === undefined && limit === undefined) {
    // No window asked: the text verbatim (line endings, final newline), so editors can rewrite it.
    return {
      kind: "text",
      path,
      text: whole,
      startLine: 1,
      lineCount: lines.length,
      totalLines: lines.length,
    };
  }
  const selected = lines.slice(window.offset - 1, window.offset - 1 + window.limit);
  return {
    kind: "text",
    path,
    text: selected.join("\n"),
    startLine: window.offset,
    lineCount: selected.length,
    totalLines: lines.length,
  };
}
