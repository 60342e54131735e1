/**
 * The shell policy of the confined environment: a command line runs only if
 * every program in it is on an allowlist and every path it names stays in
 * the workspace. The check is conservative: any shell construct whose effect
 * cannot be known before running (substitution, expansion of variables,
 * subshells, here-documents, background jobs, …) is refused outright.
 *
 * It is a policy over the command's text, not a sandbox: a listed program
 * can still do whatever it does. Without bubblewrap it is the only barrier.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
// @ts-types="@types/picomatch"
import picomatch from "picomatch";
import { isWithin } from "./guard.ts";

/** Programs the confined shell may run when the caller lists none. */
export const DEFAULT_ALLOWED_PROGRAMS: readonly string[] = [
  "[",
  "basename",
  "cat",
  "cd",
  "cp",
  "cut",
  "diff",
  "dirname",
  "du",
  "echo",
  "false",
  "file",
  "find",
  "grep",
  "head",
  "ls",
  "mkdir",
  "mv",
  "printf",
  "pwd",
  "rm",
  "rmdir",
  "seq",
  "sleep",
  "sort",
  "stat",
  "tail",
  "test",
  "touch",
  "tr",
  "true",
  "uniq",
  "wc",
];

/** Builtins that run arbitrary code; refused even when listed. */
export const NEVER_ALLOWED: ReadonlySet<string> = new Set([
  "eval",
  "exec",
  "source",
  ".",
  "command",
  "builtin",
  "enable",
  "trap",
  "alias",
  "declare",
  "typeset",
  "export",
  "readonly",
  "set",
  "shopt",
  "hash",
]);

/** Shell keywords: compound commands are not analysed, so they are refused. */
const KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "for",
  "while",
  "until",
  "do",
  "done",
  "case",
  "esac",
  "select",
  "function",
  "time",
  "coproc",
  "[[",
  "]]",
]);

/** Arguments that make an otherwise harmless program run other programs or write anywhere. */
const DANGEROUS_ARGUMENTS: Readonly<Record<string, readonly RegExp[]>> = {
  find: [/^-(exec|execdir|ok|okdir|fprint|fprint0|fprintf|fls|L|H|follow)$/],
  // Following links during a walk would read through links that lead out.
  grep: [/^-[A-Za-z]*R/, /^--dereference-recursive$/],
  cp: [/^-[A-Za-z]*[LH]/, /^--dereference$/],
  du: [/^-[A-Za-z]*[LH]/, /^--dereference/],
  diff: [/^-[A-Za-z]*r/, /^--recursive$/],
};

/** Arguments refused for every program: they name files to read inside another file. */
const FILE_LIST_ARGUMENTS = /^--files0-from(=|$)/;

/** A glob argument expanding to more entries than this is refused as too broad to check. */
export const MAX_GLOB_CHECK = 10_000;

/** Why a command line was refused. */
export class ShellPolicyError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "PermissionDenied" as const;
  /** The program, path or construct that was refused. */
  readonly subject: string;

  /** Creates the error; `reason` says what was refused and why. */
  constructor(subject: string, reason: string) {
    super(reason);
    this.subject = subject;
    this.name = "ShellPolicyError";
  }
}

/** What the policy allows. */
export interface ShellPolicy {
  /** Real path of the workspace. */
  readonly workspace: string;
  /** Directory the command runs in (inside the workspace). */
  readonly cwd: string;
  /** Program names (or exact paths) that may run. */
  readonly allowedPrograms: readonly string[];
}

interface Word {
  readonly kind: "word";
  /** The word after quote removal. */
  readonly value: string;
  /** Positions (in value) of glob characters that were not quoted. */
  readonly globs: readonly number[];
}

interface Operator {
  readonly kind: "op";
  readonly value: string;
}

type Token = Word | Operator;

const CONTROL = new Set(["|", "|&", "||", "&&", ";"]);
const REDIRECT = /^(\d*)(>|>>|>\||<|&>|&>>|>&|<&)$/;

/** Splits a command line into words and operators, refusing what cannot be checked. */
export function tokenize(command: string): Token[] {
  const tokens: Token[] = [];
  let value = "";
  let globs: number[] = [];
  let inWord = false;
  const flush = () => {
    if (inWord) tokens.push({ kind: "word", value, globs });
    value = "";
    globs = [];
    inWord = false;
  };
  const refuse = (what: string, why: string): never => {
    throw new ShellPolicyError(what, `${why}; the confined shell refuses it (${what})`);
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    const next = command[i + 1];
    if (c === " " || c === "\t") {
      flush();
    } else if (c === "\n") {
      flush();
      tokens.push({ kind: "op", value: ";" });
    } else if (c === "\\") {
      if (next === "\n") {
        i++;
        continue;
      }
      if (next === undefined) refuse("\\", "a trailing backslash");
      value += next;
      inWord = true;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) refuse("'", "an unterminated single quote");
      value += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        const d = command[j];
        if (d === "$") refuse("$", "expansion inside double quotes cannot be checked");
        if (d === "`") refuse("`", "command substitution cannot be checked");
        if (d === "\\" && '$`"\\\n'.includes(command[j + 1] ?? "")) {
          j++;
          if (command[j] !== "\n") value += command[j];
        } else {
          value += d;
        }
      }
      if (j >= command.length) refuse('"', "an unterminated double quote");
      i = j;
    } else if (c === "$") {
      refuse("$", "variable, arithmetic or command substitution cannot be checked");
    } else if (c === "`") {
      refuse("`", "command substitution cannot be checked");
    } else if ("(){}".includes(c)) {
      refuse(c, "subshells, groups, brace expansion and process substitution cannot be checked");
    } else if (c === "#" && !inWord) {
      refuse("#", "comments are not accepted (they could hide the rest of a line)");
    } else if (c === "~" && !inWord) {
      refuse("~", "home-directory expansion points outside the workspace");
    } else if (c === "|" || c === ";" || c === "&" || c === "<" || c === ">") {
      // A word made only of digits directly before < or > is a file-descriptor number.
      let fd = "";
      if ((c === "<" || c === ">") && inWord && /^\d+$/.test(value) && globs.length === 0) {
        fd = value;
        value = "";
        inWord = false;
      }
      flush();
      const three = command.slice(i, i + 3);
      const two = command.slice(i, i + 2);
      let op: string;
      if (three === "&>>") op = three;
      else if (["||", "|&", "&&", ">>", ">|", "&>", ">&", "<&"].includes(two)) op = two;
      else if (["<<", "<>", ";;", ";&"].includes(two)) {
        op = refuse(
          two,
          "here-documents, read-write redirections and case terminators are not supported",
        );
      } else if (c === "&") op = refuse("&", "background jobs are not allowed");
      else op = c;
      i += op.length - 1;
      tokens.push({ kind: "op", value: fd + op });
    } else {
      if (c === "*" || c === "?" || c === "[") globs.push(value.length);
      value += c;
      inWord = true;
    }
  }
  flush();
  return tokens;
}

/** A path named by a command, checked against the workspace by lexical and real location. */
function checkPath(policy: ShellPolicy, path: string, role: string): void {
  if (path === "/dev/null") return;
  const abs = resolve(policy.cwd, path);
  if (!isWithin(policy.workspace, abs)) {
    throw new ShellPolicyError(
      path,
      `${role} ${path} is outside the workspace ${policy.workspace}`,
    );
  }
  // The deepest existing ancestor must really be inside too (a link may lead out).
  let current = abs;
  for (;;) {
    try {
      const real = Deno.realPathSync(current);
      if (!isWithin(policy.workspace, real)) {
        throw new ShellPolicyError(
          path,
          `${role} ${path} leads through a symbolic link to ${real}, outside the workspace`,
        );
      }
      return;
    } catch (error) {
      if (error instanceof ShellPolicyError) throw error;
      const parent = resolve(current, "..");
      if (parent === current) return;
      current = parent;
    }
  }
}

function looksLikePath(value: string): boolean {
  return isAbsolute(value) || value === ".." || value.startsWith("../") || value.includes("/../") ||
    value.endsWith("/..") || value.includes("/");
}

/**
 * Expands a relative glob the way bash would (segment by segment, a leading
 * dot only matched explicitly) and refuses it if any match really lies
 * outside the workspace, e.g. a link inside it that points out.
 */
function checkGlobExpansion(policy: ShellPolicy, pattern: string): void {
  let current = [policy.cwd];
  for (const segment of pattern.split("/")) {
    if (segment === "" || segment === ".") continue;
    const next: string[] = [];
    if (/[*?[]/.test(segment)) {
      const matches = picomatch(segment, { dot: false });
      for (const dir of current) {
        let names: string[];
        try {
          names = [...Deno.readDirSync(dir)].map((e) => e.name);
        } catch {
          continue; // not a directory, or unreadable: bash would not expand into it either
        }
        for (const name of names) if (matches(name)) next.push(join(dir, name));
        if (next.length > MAX_GLOB_CHECK) {
          throw new ShellPolicyError(
            pattern,
            `the pattern ${pattern} matches too many entries to check`,
          );
        }
      }
    } else {
      for (const dir of current) next.push(join(dir, segment));
    }
    current = next;
  }
  for (const match of current) checkPath(policy, match, `pattern ${pattern} matches`);
}

function checkArgument(policy: ShellPolicy, program: string, word: Word): void {
  if (FILE_LIST_ARGUMENTS.test(word.value)) {
    throw new ShellPolicyError(
      word.value,
      `${word.value} reads file names the policy cannot check`,
    );
  }
  for (const pattern of DANGEROUS_ARGUMENTS[program] ?? []) {
    if (pattern.test(word.value)) {
      throw new ShellPolicyError(
        word.value,
        `argument ${JSON.stringify(word.value)} would let ${program} run programs, follow links ` +
          `or write files the policy cannot check`,
      );
    }
  }
  // A glob in a segment that starts with "." could expand to "..".
  for (const at of word.globs) {
    const segmentStart = word.value.lastIndexOf("/", at - 1) + 1;
    if (word.value[segmentStart] === ".") {
      throw new ShellPolicyError(word.value, `the pattern ${word.value} could match ".."`);
    }
  }
  const candidates = [word.value];
  if (word.value.startsWith("-")) {
    // An option can carry a path: --file=/x, or attached as in -f/x or -f../x.
    const eq = word.value.indexOf("=");
    if (eq > 0) candidates.push(word.value.slice(eq + 1));
    const attached = word.value.search(/\/|\.\./);
    if (attached > 0) candidates.push(word.value.slice(attached));
  }
  for (const candidate of candidates) {
    if (candidate === "" || candidate.startsWith("-") && candidate === word.value) continue;
    if (looksLikePath(candidate)) checkPath(policy, candidate, "path");
    else if (candidate !== "." && !word.globs.length) {
      // A bare name that exists here may be a link leading out of the workspace.
      checkPath(policy, candidate, "path");
    }
  }
  if (word.globs.length && !word.value.startsWith("-")) checkGlobExpansion(policy, word.value);
}

/**
 * Checks `command` against `policy`; returns the programs it would run, or
 * throws a {@linkcode ShellPolicyError} naming what was refused and why.
 */
export function checkCommand(policy: ShellPolicy, command: string): string[] {
  if (command.includes("\0")) throw new ShellPolicyError("NUL", "the command contains a NUL byte");
  const tokens = tokenize(command);
  const programs: string[] = [];
  let expectProgram = true;
  let pendingRedirect: string | undefined;
  let program = "";
  for (const token of tokens) {
    if (token.kind === "op") {
      if (pendingRedirect) {
        throw new ShellPolicyError(pendingRedirect, `redirection ${pendingRedirect} has no target`);
      }
      if (CONTROL.has(token.value)) {
        expectProgram = true;
        continue;
      }
      if (!REDIRECT.test(token.value)) {
        throw new ShellPolicyError(token.value, `operator ${token.value} is not supported`);
      }
      pendingRedirect = token.value;
      continue;
    }
    if (pendingRedirect) {
      const dup = /[<>]&$/.test(pendingRedirect);
      if (dup) {
        if (!/^(\d+|-)$/.test(token.value)) {
          throw new ShellPolicyError(token.value, `${pendingRedirect} needs a descriptor number`);
        }
      } else {
        if (token.globs.length) {
          throw new ShellPolicyError(token.value, `redirection target ${token.value} is a pattern`);
        }
        checkPath(policy, token.value, "redirection target");
      }
      pendingRedirect = undefined;
      continue;
    }
    if (expectProgram) {
      if (token.value === "!") continue;
      program = token.value;
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program)) {
        throw new ShellPolicyError(program, `variable assignments (${program}) are not allowed`);
      }
      if (KEYWORDS.has(program)) {
        throw new ShellPolicyError(
          program,
          `shell keyword ${program}: compound commands are not supported`,
        );
      }
      if (NEVER_ALLOWED.has(program)) {
        throw new ShellPolicyError(program, `${program} runs arbitrary code and is never allowed`);
      }
      if (token.globs.length && program !== "[") {
        throw new ShellPolicyError(program, `program name ${program} is a pattern`);
      }
      if (!policy.allowedPrograms.includes(program)) {
        throw new ShellPolicyError(
          program,
          `program ${program} is not on the allowlist (${policy.allowedPrograms.join(", ")})`,
        );
      }
      programs.push(program);
      expectProgram = false;
      continue;
    }
    if (program === "[" && token.value === "]") continue;
    checkArgument(policy, program, token);
  }
  if (pendingRedirect) {
    throw new ShellPolicyError(pendingRedirect, `redirection ${pendingRedirect} has no target`);
  }
  if (programs.length === 0) throw new ShellPolicyError("", "the command runs no program");
  return programs;
}
