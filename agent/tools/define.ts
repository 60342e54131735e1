/**
 * Defining a tool once: a zod object schema gives both the JSON Schema the
 * model sees and the validation its arguments go through. The public
 * signature names only the structural {@linkcode ArgumentSchema}, so zod's
 * own types do not leak into this module's documented API.
 *
 * @module
 */

import { z } from "zod";
import type { JsonSchema, RegisteredTool, ToolContext, ToolOutput } from "./types.ts";
import { ToolArgumentError } from "./types.ts";

/** One validation problem: where, and what. */
export interface ArgumentIssue {
  /** Path of the offending field. */
  readonly path: ReadonlyArray<PropertyKey>;
  /** What is wrong with it. */
  readonly message: string;
}

/** The outcome of {@linkcode ArgumentSchema.safeParse}. */
export type ArgumentParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly ArgumentIssue[] } };

/** What `defineTool` needs of a schema; a zod 4 `z.object(…)` is one. */
export interface ArgumentSchema<T> {
  /** Validates and normalises `data`. */
  safeParse(data: unknown): ArgumentParseResult<T>;
}

/** What {@linkcode defineTool} needs. */
export interface ToolSpec<T> {
  /** Unique tool name. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** Argument schema: a zod object; `.describe()` texts become parameter descriptions. */
  readonly schema: ArgumentSchema<T>;
  /** Runs the tool with parsed arguments. */
  execute(args: T, ctx: ToolContext): Promise<ToolOutput>;
}

/** Formats issues as "field: problem; field: problem". */
export function describeIssues(issues: readonly ArgumentIssue[]): string {
  return issues
    .map((issue) =>
      `${issue.path.length ? issue.path.map(String).join(".") : "(arguments)"}: ${issue.message}`
    )
    .join("; ");
}

function asZodObject(name: string, schema: unknown): z.ZodObject {
  if (!(schema instanceof z.ZodObject)) {
    throw new TypeError(`tool ${name}: schema must be a zod object (z.object({...}))`);
  }
  return schema;
}

/** The JSON Schema the model sees for a zod object schema (input shape, no `$schema`). */
export function toParameters(schema: ArgumentSchema<unknown>): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(
    asZodObject("(unnamed)", schema),
    { io: "input" },
  ) as unknown as JsonSchema;
  return rest;
}

/**
 * Builds a {@linkcode RegisteredTool} from a zod object schema and an
 * executor. Unknown argument names are rejected (the schema is made strict).
 */
export function defineTool<T>(spec: ToolSpec<T>): RegisteredTool {
  const schema = asZodObject(spec.name, spec.schema).strict();
  return {
    definition: {
      name: spec.name,
      description: spec.description,
      parameters: toParameters(schema),
    },
    parse(args: unknown): Record<string, unknown> {
      const result = schema.safeParse(args);
      if (!result.success) {
        throw new ToolArgumentError(spec.name, describeIssues(result.error.issues));
      }
      return result.data as Record<string, unknown>;
    },
    execute(args, ctx) {
      return spec.execute(args as T, ctx);
    },
  };
}

/** A successful output. */
export function ok(content: string): ToolOutput {
  return { content, isError: false };
}

/** An error output the model sees. */
export function fail(content: string): ToolOutput {
  return { content, isError: true };
}
