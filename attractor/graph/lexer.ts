/**
 * The DOT tokenizer: Graphviz's lexical syntax plus what attractor pipelines
 * write and Graphviz rejects (unquoted values and keys with dots, colons and
 * dashes: `llm_model=gpt-5.4`, `type=wait.human`, `manager.max_cycles=3`).
 *
 * Comments (`//`, `/* *\/`, `#` to end of line) are skipped everywhere but
 * inside quoted strings. Quoted strings may span lines and resolve the
 * escapes `\"`, `\\`, `\n`, `\t`, `\r`; a backslash before a newline joins
 * the lines (Graphviz's continuation); other escapes (Graphviz's `\l`, `\N`,
 * …) are kept as written. `"a" + "b"` concatenates.
 *
 * @module
 */
import { DotParseError } from "./errors.ts";

/** Kinds of token. */
export type TokenKind =
  | "id" // bare word: identifier, number, dotted/dashed value
  | "string" // quoted string (value unescaped)
  | "{"
  | "}"
  | "["
  | "]"
  | "="
  | ";"
  | ","
  | "->"
  | "eof";

/** One token with its 1-based position. */
export interface Token {
  /** What it is. */
  readonly kind: TokenKind;
  /** The text: the bare word, or the quoted string's value. */
  readonly text: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

// Bare words: letters, digits, `_`, and the value punctuation attractor files
// use unquoted (`.`, `:`, `-`, `+`, `/`, `@`, `%`, `~`, `$`), plus any
// non-ASCII character (Graphviz allows those in IDs).
function isBare(code: number): boolean {
  return (code >= 48 && code <= 57) || // 0-9
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    code === 95 || code === 46 || code === 58 || code === 45 || code === 43 ||
    code === 47 || code === 64 || code === 37 || code === 126 || code === 36 ||
    code >= 0x80;
}

/**
 * Splits DOT source into tokens; the last one is `eof`. CRLF line ends count
 * as LF (a multi-line string from a Windows editor holds `\n`, not `\r\n`).
 */
export function tokenize(text: string): Token[] {
  if (typeof text !== "string") {
    throw new DotParseError(`DOT source must be a string, not ${describeValue(text)}`, 1, 1);
  }
  const source = text.includes("\r\n") ? text.replaceAll("\r\n", "\n") : text;
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let concatPending = false;

  const fail = (reason: string, at: number, atLine = line, atLineStart = lineStart): never => {
    throw new DotParseError(reason, atLine, at - atLineStart + 1);
  };
  const push = (kind: TokenKind, text: string, at: number, atLine: number, atLs: number) => {
    tokens.push({ kind, text, line: atLine, column: at - atLs + 1 });
  };

  while (i < n) {
    const code = source.charCodeAt(i);
    // Whitespace (and a BOM at the very start).
    if (code === 10) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (code === 32 || code === 9 || code === 13 || code === 12 || code === 0xfeff) {
      i++;
      continue;
    }
    const ch = source[i];
    // Comments.
    if (ch === "#" || (ch === "/" && source[i + 1] === "/")) {
      while (i < n && source.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (ch === "/" && source[i + 1] === "*") {
      const startLine = line;
      const startLs = lineStart;
      const start = i;
      i += 2;
      for (;;) {
        if (i >= n) fail("unterminated /* comment", start, startLine, startLs);
        const c = source.charCodeAt(i);
        if (c === 42 && source.charCodeAt(i + 1) === 47) {
          i += 2;
          break;
        }
        i++;
        if (c === 10) {
          line++;
          lineStart = i;
        }
      }
      continue;
    }
    const at = i;
    const atLine = line;
    const atLs = lineStart;
    switch (ch) {
      case "{":
      case "}":
      case "[":
      case "]":
      case "=":
      case ";":
      case ",":
        push(ch, ch, at, atLine, atLs);
        i++;
        continue;
      case "<":
        fail("HTML-like labels (<…>) are not supported; use a quoted string", at);
        break;
      case '"': {
        let value = "";
        i++;
        let chunkStart = i;
        for (;;) {
          if (i >= n) fail("unterminated string", at, atLine, atLs);
          const c = source.charCodeAt(i);
          if (c === 34) {
            value += source.slice(chunkStart, i);
            i++;
            break;
          }
          if (c === 10) {
            i++;
            line++;
            lineStart = i;
            continue;
          }
          if (c !== 92) {
            i++;
            continue;
          }
          value += source.slice(chunkStart, i);
          const next = source[i + 1];
          i += 2;
          switch (next) {
            case '"':
            case "\\":
              value += next;
              break;
            case "n":
              value += "\n";
              break;
            case "t":
              value += "\t";
              break;
            case "r":
              if (source[i] === "\n") {
                // `\` + CRLF is a line continuation, as `\` + LF.
                i++;
                line++;
                lineStart = i;
              } else value += "\r";
              break;
            case "\n":
              line++;
              lineStart = i;
              break;
            case undefined:
              fail("unterminated string", at, atLine, atLs);
              break;
            default:
              value += "\\" + next;
          }
          chunkStart = i;
        }
        // Graphviz concatenation: "a" + "b".
        if (concatPending) {
          const prev = tokens[tokens.length - 1];
          tokens[tokens.length - 1] = { ...prev, text: prev.text + value };
          concatPending = false;
        } else push("string", value, at, atLine, atLs);
        continue;
      }
    }
    if (ch === "-" && source[i + 1] === ">") {
      push("->", "->", at, atLine, atLs);
      i += 2;
      continue;
    }
    if (ch === "-" && source[i + 1] === "-") {
      throw new DotParseError(
        "undirected edges ('--') are not supported; use '->'",
        atLine,
        at - atLs + 1,
        "dot_unsupported",
      );
    }
    if (ch === "+") {
      // `+` between two quoted strings concatenates them.
      const prev = tokens[tokens.length - 1];
      let j = i + 1;
      while (j < n && (source[j] === " " || source[j] === "\t" || source[j] === "\n")) j++;
      if (prev && prev.kind === "string" && source[j] === '"') {
        concatPending = true;
        i++;
        continue;
      }
    }
    if (isBare(code)) {
      i++;
      while (i < n) {
        const c = source.charCodeAt(i);
        if (!isBare(c)) break;
        // `a->b` and `a--b`: the arrow ends the word; so does a comment.
        if (c === 45 && (source[i + 1] === ">" || source[i + 1] === "-")) break;
        if (c === 47 && (source[i + 1] === "/" || source[i + 1] === "*")) break;
        i++;
      }
      push("id", source.slice(at, i), at, atLine, atLs);
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`, at);
  }
  tokens.push({ kind: "eof", text: "", line, column: i - lineStart + 1 });
  return tokens;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}
