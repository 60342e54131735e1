/**
 * Locating lines despite small differences (spec §3.3 edit_file, Appendix A
 * hunk matching): exact first, then ignoring trailing whitespace, then
 * surrounding whitespace, then also Unicode punctuation look-alikes.
 *
 * @module
 */

/** How loosely two lines were compared, strictest first. */
export type MatchLevel = "exact" | "trailing-whitespace" | "whitespace" | "unicode";

const PUNCTUATION: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u2010-\u2015\u2212]/g, "-"],
  [/[\u2018\u2019\u201A\u201B]/g, "'"],
  [/[\u201C\u201D\u201E\u201F]/g, '"'],
  [/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, " "],
  [/\u2026/g, "..."],
];

/** Normalises a line for comparison at `level`. */
export function normaliseLine(line: string, level: MatchLevel): string {
  switch (level) {
    case "exact":
      return line;
    case "trailing-whitespace":
      return line.trimEnd();
    case "whitespace":
      return line.trim().replace(/\s+/g, " ");
    case "unicode": {
      let out = line.normalize("NFC");
      for (const [pattern, replacement] of PUNCTUATION) out = out.replace(pattern, replacement);
      return out.trim().replace(/\s+/g, " ");
    }
  }
}

/** Every level, strictest first. */
export const MATCH_LEVELS: readonly MatchLevel[] = [
  "exact",
  "trailing-whitespace",
  "whitespace",
  "unicode",
];

/** Where a line sequence was found. */
export interface LineMatch {
  /** Index of the first matching line. */
  readonly index: number;
  /** The level at which it matched. */
  readonly level: MatchLevel;
}

/**
 * Finds `needle` in `haystack` at or after `from`, trying each level in
 * turn; at each level returns every start index (so callers can insist on
 * uniqueness). With `atEnd`, only a match ending at the last line counts.
 */
export function findLineSequence(
  haystack: readonly string[],
  needle: readonly string[],
  from = 0,
  atEnd = false,
): { indexes: number[]; level: MatchLevel } | undefined {
  if (needle.length === 0) return undefined;
  for (const level of MATCH_LEVELS) {
    const want = needle.map((l) => normaliseLine(l, level));
    const have = haystack.map((l) => normaliseLine(l, level));
    const indexes: number[] = [];
    const first = atEnd ? Math.max(from, haystack.length - needle.length) : from;
    for (let i = first; i + needle.length <= haystack.length; i++) {
      let same = true;
      for (let j = 0; j < want.length && same; j++) same = have[i + j] === want[j];
      if (same) indexes.push(i);
    }
    if (indexes.length) return { indexes, level };
  }
  return undefined;
}
