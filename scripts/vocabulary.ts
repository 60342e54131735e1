/**
 * The vocabulary codemod (spec/vocabulary.md): renames the old names of the
 * project's concepts to their one name, across every TypeScript and Markdown
 * file of the workspace. It is idempotent — a second run changes nothing — so
 * it can be run again after merging branches that still use the old names:
 *
 *     deno task vocabulary          # rewrite, print every change
 *     deno task vocabulary --check  # print what would change; exit 1 if anything would
 *
 * Then `deno fmt` (renames change line lengths) and `deno task check`.
 *
 * Five kinds of rename, each safe to run on a tree where the declaration was
 * already renamed and new code still uses the old name:
 * - words: an identifier that names one concept wherever it appears (AST
 *   identifiers, and the word in comments, string, template and regular
 *   expression literals, and Markdown), optionally only under some folders;
 * - imported names: `ToolCall` means the registry's invocation only where it
 *   is imported from the tools module (or declared there);
 * - typed properties: `id` of an llm `ToolCall` is renamed where the type
 *   checker says the object is one (property accesses, object literals,
 *   destructuring);
 * - typed locals: a variable or parameter `turn` holding a `HistoryEntry`
 *   becomes `entry`, with its references;
 * - moved files: turnstore/fs/checkpoint.ts → watermark.ts, and the
 *   specifiers that import it.
 *
 * A Markdown paragraph, comment or literal that mentions an old name on
 * purpose (the coding-agent-loop spec's names kept as aliases) carries
 * `vocabulary-keep` (in Markdown, as an HTML comment).
 *
 * @module
 */

import { Node, Project, ts, type Type } from "ts-morph";

/** A name replaced wherever it appears as a word. */
interface WordRule {
  readonly from: string;
  readonly to: string;
  /** Only files under these folders (repo-relative, ending in "/"). */
  readonly under?: readonly string[];
  /** Not in these files (repo-relative). */
  readonly except?: readonly string[];
  /** Identifiers only: leave comments, Markdown and string literals alone. */
  readonly codeOnly?: boolean;
}

const FS = ["turnstore/fs/"];

/** The renames; the table in spec/vocabulary.md says why. */
export const WORD_RULES: readonly WordRule[] = [
  // A model call is not a turn.
  { from: "maxTurns", to: "maxModelCalls" },
  { from: "turnCount", to: "modelCallCount" },
  { from: "turnsUsed", to: "modelCallsUsed" },
  { from: "max_turns", to: "max_model_calls" },
  { from: "turns_used", to: "model_calls_used", codeOnly: true },
  { from: "turn_limit", to: "model_call_limit" },
  // Phrases (prose only: an identifier has no space).
  { from: "turn limit", to: "model-call limit" },
  { from: "Turn limit", to: "Model-call limit" },
  // A conversation entry is not a turn.
  { from: "HistoryTurn", to: "HistoryEntry" },
  { from: "recordHistoryTurn", to: "recordHistoryEntry" },
  { from: "turnChars", to: "entryChars" },
  // One call-id name.
  { from: "toolCallId", to: "callId" },
  // The registry's side of a tool call.
  { from: "ToolCallResult", to: "ToolInvocationResult" },
  // Deprecated record-type aliases (their declarations are removed).
  { from: "RecordCodec", to: "RecordType" },
  { from: "StructLike", to: "RecordType" },
  // "checkpoint" is pipeline state; the fs backend's index watermark is not one.
  { from: "Checkpoint", to: "IndexWatermark", under: FS, codeOnly: true },
  { from: "readCheckpoint", to: "readWatermark", under: FS, codeOnly: true },
  { from: "writeCheckpoint", to: "writeWatermark", under: FS, codeOnly: true },
  { from: "sinceCheckpoint", to: "sinceWatermark", under: FS, codeOnly: true },
  { from: "CHECKPOINT_EVERY_BYTES", to: "WATERMARK_EVERY_BYTES", under: FS, codeOnly: true },
  { from: "checkpoint", to: "watermark", under: FS, codeOnly: true },
];

/** Aliases deleted outright (`export type From<V> = To<V>`). */
const REMOVED_ALIASES = new Set(["RecordCodec", "StructLike"]);

/** Files moved; module specifiers naming them are rewritten. */
export const FILE_MOVES: readonly { readonly from: string; readonly to: string }[] = [
  { from: "turnstore/fs/checkpoint.ts", to: "turnstore/fs/watermark.ts" },
];

/** `ToolCall` imported from (or declared in) the tools module becomes `ToolInvocation`. */
const TOOLS_TOOL_CALL = { from: "ToolCall", to: "ToolInvocation" };
const TOOLS_MODULE = /^agent\/tools\/(types|mod)\.ts$|^@forge\/agent\/tools$/;

/** Properties renamed where the checker says the object has the declaring type. */
const TYPED_PROPERTIES: readonly {
  readonly file: string;
  readonly type: string;
  readonly from: string;
  readonly to: string;
  /**
   * Property names that hold the type (`part.toolCall`): used where the
   * checker cannot tell (an untyped literal, a value narrowed by an assert).
   */
  readonly via: readonly string[];
}[] = [
  { file: "agent/llm/types.ts", type: "ToolCall", from: "id", to: "callId", via: ["toolCall"] },
  {
    file: "agent/llm/types.ts",
    type: "ServerToolCall",
    from: "id",
    to: "callId",
    via: ["serverToolCall"],
  },
  { file: "agent/llm/scripted.ts", type: "ScriptedToolCall", from: "id", to: "callId", via: [] },
];

/** Local variables and parameters renamed when the checker says they hold the type. */
const TYPED_LOCALS: readonly {
  readonly from: string;
  readonly to: string;
  readonly type: string;
}[] = [
  { from: "turn", to: "entry", type: "HistoryEntry" },
];

const SKIP_DIRS = new Set([".git", ".forge", "node_modules", "results", "testdata"]);
/** This file names the old words on purpose, as does the vocabulary table. */
const SKIP_FILES = new Set(["scripts/vocabulary.ts", "spec/vocabulary.md"]);
const KEEP = "vocabulary-keep";

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const check = Deno.args.includes("--check");
const changes: string[] = [];

function walk(dir: string, out: string[]): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) walk(path, out);
    else if (entry.isFile && /\.(ts|md)$/.test(entry.name)) out.push(path);
  }
  return out;
}

const rel = (path: string) => path.slice(root.length + 1);

function applies(rule: WordRule, file: string): boolean {
  if (rule.under && !rule.under.some((dir) => file.startsWith(dir))) return false;
  return !rule.except?.includes(file);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const wordPattern = (word: string) => new RegExp(`(?<![\\w$])${escape(word)}(?![\\w$])`, "g");

/**
 * Replaces the words of `rules` in prose (a comment, a literal or Markdown),
 * paragraph by paragraph: a paragraph that says `vocabulary-keep` is left as it is.
 */
function proseEdits(text: string, offset: number, rules: readonly WordRule[]): Edit[] {
  const edits: Edit[] = [];
  for (const paragraph of text.matchAll(/(?:[^\n]|\n(?![ \t]*\n))+/g)) {
    if (paragraph[0].includes(KEEP)) continue;
    for (const rule of rules) {
      if (rule.codeOnly) continue;
      for (const m of paragraph[0].matchAll(wordPattern(rule.from))) {
        const start = offset + paragraph.index! + m.index!;
        edits.push({ start, end: start + rule.from.length, text: rule.to });
      }
    }
  }
  return edits;
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Applies non-overlapping edits (the first one wins at a position), logging each. */
function rewrite(file: string, text: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const e of edits) {
    if (e.start < at) continue;
    const old = text.slice(e.start, e.end);
    if (old === e.text) continue;
    const shown = e.text === "" ? `(removed) ${old.trim().split("\n")[0]}` : `${old} → ${e.text}`;
    changes.push(`${file}:${lineOf(text, e.start)}: ${shown}`);
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}

function moveFiles(): void {
  for (const move of FILE_MOVES) {
    const from = `${root}/${move.from}`;
    const to = `${root}/${move.to}`;
    let exists = true;
    try {
      Deno.statSync(from);
    } catch {
      exists = false;
    }
    if (!exists) continue;
    changes.push(`${move.from}: moved to ${move.to}`);
    if (!check) Deno.renameSync(from, to);
  }
}

/** A relative specifier as a repo-relative path; any other specifier as it is. */
function resolveSpecifier(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
  return new URL(spec, `file:///${dir}/`).pathname.slice(1);
}

/** Module specifiers (relative) that still name a moved file. */
function specifierEdit(file: string, node: Node): Edit | undefined {
  if (!Node.isStringLiteral(node)) return undefined;
  const parent = node.getParent();
  if (!Node.isImportDeclaration(parent) && !Node.isExportDeclaration(parent)) return undefined;
  const spec = node.getLiteralValue();
  if (!spec.startsWith(".")) return undefined;
  const target = resolveSpecifier(file, spec);
  const move = FILE_MOVES.find((m) => m.from === target);
  if (!move) return undefined;
  const newName = move.to.slice(move.to.lastIndexOf("/") + 1);
  const newSpec = spec.slice(0, spec.lastIndexOf("/") + 1) + newName;
  return { start: node.getStart() + 1, end: node.getEnd() - 1, text: newSpec };
}

/** Does this file mean the tools module's `ToolCall` when it says `ToolCall`? */
function usesToolsToolCall(file: string, sf: import("ts-morph").SourceFile): boolean {
  if (file === "agent/tools/types.ts") return true;
  return sf.getImportDeclarations().some((decl) =>
    TOOLS_MODULE.test(resolveSpecifier(file, decl.getModuleSpecifierValue())) &&
    decl.getNamedImports().some((n) => n.getName() === TOOLS_TOOL_CALL.from && !n.getAliasNode())
  );
}

/**
 * An import/export specifier renamed onto a name the file already imports
 * (or exports): remove it instead of declaring the name twice.
 */
function duplicateSpecifierEdit(node: Node, to: string): Edit | undefined {
  const spec = node.getParent();
  if (!Node.isImportSpecifier(spec) && !Node.isExportSpecifier(spec)) return undefined;
  if (spec.getAliasNode() === node) return undefined;
  const kind = Node.isImportSpecifier(spec)
    ? ts.SyntaxKind.ImportSpecifier
    : ts.SyntaxKind.ExportSpecifier;
  const clash = spec.getSourceFile().getDescendantsOfKind(kind).some((s) =>
    s !== spec && !s.getAliasNode() && s.getNameNode().getText() === to
  );
  if (!clash) return undefined;
  const siblings = spec.getParentOrThrow().getChildrenOfKind(kind) as Node[];
  const i = siblings.indexOf(spec);
  if (siblings.length === 1) return undefined; // a whole declaration would go: left to a hand fix
  return i + 1 < siblings.length
    ? { start: spec.getStart(), end: siblings[i + 1].getStart(), text: "" }
    : { start: siblings[i - 1].getEnd(), end: spec.getEnd(), text: "" };
}

function codeEdits(file: string, sf: import("ts-morph").SourceFile): Edit[] {
  const rules = WORD_RULES.filter((r) => applies(r, file));
  const byName = new Map(rules.map((r) => [r.from, r]));
  const toolsCall = usesToolsToolCall(file, sf);
  const edits: Edit[] = [];
  const comments = new Set<number>();
  const text = sf.getFullText();
  const visit = (node: Node) => {
    for (const range of [...node.getLeadingCommentRanges(), ...node.getTrailingCommentRanges()]) {
      if (comments.has(range.getPos())) continue;
      comments.add(range.getPos());
      edits.push(...proseEdits(range.getText(), range.getPos(), rules));
    }
    const spec = specifierEdit(file, node);
    if (spec) edits.push(spec);
    if (Node.isTypeAliasDeclaration(node) && REMOVED_ALIASES.has(node.getName())) {
      // `export type RecordCodec<V> = RecordType<V>;` and its doc comment go.
      let end = node.getEnd();
      while (end < text.length && text[end] === "\n") end++;
      edits.push({ start: node.getStart(true), end, text: "" });
      return;
    }
    if (Node.isIdentifier(node) || Node.isPrivateIdentifier(node)) {
      const name = node.getText();
      const bare = name.startsWith("#") ? name.slice(1) : name;
      const rule = byName.get(bare);
      const to = rule?.to ?? (toolsCall && bare === TOOLS_TOOL_CALL.from ? TOOLS_TOOL_CALL.to : "");
      if (to) {
        const dup = duplicateSpecifierEdit(node, to);
        edits.push(
          dup ?? { start: node.getStart(), end: node.getEnd(), text: name.replace(bare, to) },
        );
      }
    } else if (
      Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node) ||
      Node.isTemplateHead(node) || Node.isTemplateMiddle(node) || Node.isTemplateTail(node) ||
      Node.isRegularExpressionLiteral(node)
    ) {
      // Messages, test names and patterns say the word too ("maxModelCalls must be…").
      if (!spec) edits.push(...proseEdits(node.getText(), node.getStart(), rules));
    }
    node.forEachChild(visit);
  };
  sf.forEachChild(visit);
  visit(sf.getLastToken()); // comments before the end of the file
  return edits;
}

/** Compiler paths for the workspace members' exports, so the checker resolves `@forge/…`. */
function memberPaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  const workspace = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).workspace as string[];
  for (const member of workspace) {
    const dir = member.replace(/^\.\//, "");
    const config = JSON.parse(Deno.readTextFileSync(`${root}/${dir}/deno.json`));
    const exports = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
    for (const [sub, target] of Object.entries(exports as Record<string, string>)) {
      const name = sub === "." ? config.name : `${config.name}/${sub.slice(2)}`;
      paths[name] = [`${root}/${dir}/${target.replace(/^\.\//, "")}`];
    }
  }
  return paths;
}

function newProject(files: string[]): Project {
  const project = new Project({
    compilerOptions: {
      allowImportingTsExtensions: true,
      noEmit: true,
      strict: true,
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.esnext.d.ts", "lib.dom.d.ts"],
      paths: memberPaths(),
      types: [],
    },
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
  });
  for (const f of files) project.addSourceFileAtPath(f);
  return project;
}

/** Pass 1: words, imported names, removed aliases, moved files, Markdown. */
function renameWords(files: string[]): Map<string, string> {
  const project = newProject(files.filter((f) => f.endsWith(".ts")));
  const written = new Map<string, string>();
  for (const path of files) {
    const file = rel(path);
    if (SKIP_FILES.has(file)) continue;
    const text = Deno.readTextFileSync(path);
    const edits = path.endsWith(".ts")
      ? codeEdits(file, project.getSourceFileOrThrow(path))
      : proseEdits(text, 0, WORD_RULES.filter((r) => applies(r, file)));
    const out = rewrite(file, text, edits);
    if (out !== text) written.set(path, out);
  }
  return written;
}

function declaredIn(type: Type, decl: { file: string; type: string; to: string }): boolean {
  const prop = type.getProperty(decl.to);
  return !!prop?.getDeclarations().some((d) => {
    const owner = d.getParent();
    return rel(d.getSourceFile().getFilePath()) === decl.file &&
      Node.isInterfaceDeclaration(owner) && owner.getName() === decl.type;
  });
}

type TypedRule = (typeof TYPED_PROPERTIES)[number];

/** Is `node` inside a statement whose leading comment says `vocabulary-keep`? */
function kept(node: Node): boolean {
  for (const up of node.getAncestors()) {
    if (up.getLeadingCommentRanges().some((c) => c.getText().includes(KEEP))) return true;
  }
  return false;
}

/** The name a value is held under: `part.toolCall` → "toolCall", `{ toolCall: {…} }` → "toolCall". */
function heldAs(node: Node): string | undefined {
  if (Node.isPropertyAccessExpression(node)) return node.getName();
  if (Node.isPropertyAssignment(node.getParent())) {
    return (node.getParent() as import("ts-morph").PropertyAssignment).getName();
  }
  return undefined;
}

const unknownType = (type: Type | undefined) =>
  !type || type.isAny() || type.isUnknown() || type.getText() === "error";

/**
 * Does `node`'s value have the rule's type? By the checker; where it cannot
 * tell, by the property name the value is held under.
 */
function holdsType(node: Node, type: Type | undefined, rule: TypedRule): boolean {
  if (needsRename(type, rule)) return true;
  if (Node.isObjectLiteralExpression(node) && needsRename(comparedWith(node), rule)) return true;
  const held = heldAs(node);
  if (held === undefined || !rule.via.includes(held)) return false;
  return unknownType(type) || !type!.getProperty(rule.from) || !!type!.isUnion();
}

const ASSERTIONS = /(^|\.)(deepEqual|deepStrictEqual|equal|strictEqual|partialDeepStrictEqual)$/;

/**
 * The type an expected value is compared with: in `assert.deepEqual(actual,
 * [{ … }])` the literal (or an element of the array literal) is an expected
 * `actual`. Needed because the assertion module's own types are not loaded.
 */
function comparedWith(literal: Node): Type | undefined {
  let arg: Node = literal;
  let element = false;
  const parent = arg.getParent();
  if (Node.isArrayLiteralExpression(parent)) {
    arg = parent;
    element = true;
  }
  const call = arg.getParent();
  if (!Node.isCallExpression(call) || !ASSERTIONS.test(call.getExpression().getText())) {
    return undefined;
  }
  const args = call.getArguments();
  const other = args.find((a) => a !== arg && args.indexOf(a) < 2);
  if (!other) return undefined;
  const type = other.getType();
  return element ? type.getArrayElementType() ?? type.getNumberIndexType() : type;
}

/** Does some member of `type` (a union is looked at member by member) have the new property? */
function needsRename(type: Type | undefined, rule: TypedRule): boolean {
  if (!type) return false;
  const members = type.isUnion() ? type.getUnionTypes() : [type.getNonNullableType()];
  return members.some((t) => declaredIn(t, rule) && !t.getProperty(rule.from));
}

/** Pass 2, on the files as pass 1 left them: properties by type. */
function renameTypedProperties(files: string[], written: Map<string, string>): void {
  const tsFiles = files.filter((f) => f.endsWith(".ts") && !SKIP_FILES.has(rel(f)));
  const project = newProject([]);
  for (const f of tsFiles) {
    project.createSourceFile(f, written.get(f) ?? Deno.readTextFileSync(f), { overwrite: true });
  }
  const names = new Set(TYPED_PROPERTIES.map((r) => r.from));
  for (const sf of project.getSourceFiles()) {
    const path = sf.getFilePath();
    const text = sf.getFullText();
    const candidates = [...TYPED_PROPERTIES, ...TYPED_LOCALS];
    if (!candidates.some((r) => text.includes(r.from))) continue;
    const edits: Edit[] = [];
    sf.forEachDescendant((node) => {
      if (!Node.isIdentifier(node) || !names.has(node.getText()) || kept(node)) return;
      const parent = node.getParent();
      for (const rule of TYPED_PROPERTIES.filter((r) => r.from === node.getText())) {
        if (Node.isPropertyAccessExpression(parent) && parent.getNameNode() === node) {
          const object = parent.getExpression();
          if (holdsType(object, object.getType(), rule)) {
            edits.push({ start: node.getStart(), end: node.getEnd(), text: rule.to });
          }
        } else if (Node.isPropertyAssignment(parent) && parent.getNameNode() === node) {
          const literal = parent.getParent();
          if (
            Node.isObjectLiteralExpression(literal) &&
            holdsType(literal, literal.getContextualType(), rule)
          ) {
            edits.push({ start: node.getStart(), end: node.getEnd(), text: rule.to });
          }
        } else if (Node.isShorthandPropertyAssignment(parent)) {
          const literal = parent.getParent();
          if (
            Node.isObjectLiteralExpression(literal) &&
            holdsType(literal, literal.getContextualType(), rule)
          ) {
            edits.push({
              start: node.getStart(),
              end: node.getEnd(),
              text: `${rule.to}: ${rule.from}`,
            });
          }
        } else if (
          Node.isBindingElement(parent) && Node.isObjectBindingPattern(parent.getParent())
        ) {
          const pattern = parent.getParentOrThrow();
          if (!needsRename(pattern.getType(), rule)) continue;
          if (parent.getPropertyNameNode() === node) {
            edits.push({ start: node.getStart(), end: node.getEnd(), text: rule.to });
          } else if (!parent.getPropertyNameNode() && parent.getNameNode() === node) {
            edits.push({
              start: node.getStart(),
              end: node.getEnd(),
              text: `${rule.to}: ${rule.from}`,
            });
          }
        } else if (Node.isPropertySignature(parent) && parent.getNameNode() === node) {
          const owner = parent.getParent();
          if (
            Node.isInterfaceDeclaration(owner) && owner.getName() === rule.type &&
            rel(path) === rule.file
          ) {
            edits.push({ start: node.getStart(), end: node.getEnd(), text: rule.to });
          }
        }
      }
    });
    edits.push(...localEdits(project, sf));
    if (edits.length === 0) continue;
    written.set(path, rewrite(rel(path), text, edits));
  }
}

if (import.meta.main) {
  moveFiles();
  const files = walk(root, []);
  const written = renameWords(files);
  // The declarations must be renamed before the checker can tell which uses are stale.
  renameTypedPropertiesTwice(files, written);
  for (const line of changes) console.log(line);
  if (check) {
    console.log(
      changes.length === 0
        ? "vocabulary: nothing to change"
        : `vocabulary: ${changes.length} change(s) to make`,
    );
    if (changes.length > 0) Deno.exit(1);
  } else {
    for (const [path, text] of written) Deno.writeTextFileSync(path, text);
    console.log(`vocabulary: ${changes.length} change(s) in ${written.size} file(s)`);
    if (written.size > 0) console.log("now run: deno fmt && deno task check");
  }
}

/**
 * A variable or parameter named like a rule whose declared type is the
 * rule's (or an array of it): renamed with every reference, unless the new
 * name is already taken where it is used.
 */
function localEdits(project: Project, sf: import("ts-morph").SourceFile): Edit[] {
  const edits: Edit[] = [];
  const service = project.getLanguageService().compilerObject;
  for (const rule of TYPED_LOCALS) {
    for (const decl of sf.getDescendants()) {
      if (!Node.isParameterDeclaration(decl) && !Node.isVariableDeclaration(decl)) continue;
      const name = decl.getNameNode();
      if (!Node.isIdentifier(name) || name.getText() !== rule.from || kept(decl)) continue;
      const type = decl.getType();
      const held = type.isArray() ? type.getArrayElementTypeOrThrow() : type;
      if (held.getAliasSymbol()?.getName() !== rule.type && held.getText() !== rule.type) continue;
      // Where the new name could clash: the function of a parameter, the block of a variable.
      const scope = Node.isParameterDeclaration(decl)
        ? decl.getParentOrThrow()
        : decl.getFirstAncestor(
          (n) =>
            Node.isBlock(n) || Node.isSourceFile(n) || Node.isForOfStatement(n) ||
            Node.isForStatement(n),
        ) ?? sf;
      if (
        scope.getDescendantsOfKind(ts.SyntaxKind.Identifier).some((i) => i.getText() === rule.to)
      ) {
        changes.push(
          `${
            rel(sf.getFilePath())
          }:${name.getStartLineNumber()}: ${rule.from} left: ${rule.to} is taken there`,
        );
        continue;
      }
      const spots =
        service.findRenameLocations(sf.getFilePath(), name.getStart(), false, false, {}) ?? [];
      for (const spot of spots) {
        if (spot.fileName !== sf.getFilePath()) continue;
        edits.push({
          start: spot.textSpan.start,
          end: spot.textSpan.start + spot.textSpan.length,
          text: rule.to,
        });
      }
    }
  }
  return edits;
}

/** Declarations first (pass 2a), then the uses the checker sees through them (pass 2b). */
function renameTypedPropertiesTwice(files: string[], written: Map<string, string>): void {
  renameTypedProperties(files, written);
  renameTypedProperties(files, written);
}
