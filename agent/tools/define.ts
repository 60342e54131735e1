/**
 * Defining a tool once: a zod object schema gives both the JSON Schema the
 * model sees and the validation its arguments go through.
 *
 * @module
 */

import { z } from "zod";
import type { JsonSchema, RegisteredTool, ToolContext, ToolOutput } from "./types.ts";
import { ToolArgumentError } from "./types.ts";

/** What {@linkcode defineTool} needs. */
export interface ToolSpec<S extends z.ZodObject> {
  /** Unique tool name. */
  readonly name: string;
  /** What the tool does, for the model. */
  readonly description: string;
  /** Argument schema; `.describe()` texts become the parameter descriptions. */
  readonly schema: S;
  /** Runs the tool with parsed arguments. */
  execute(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput>;
}

/** The JSON Schema the model sees for a zod object (input shape, no `$schema`). */
export function toParameters(schema: z.ZodObject): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input" }) as JsonSchema;
  return rest;
}

/** Formats zod issues as "field: problem; field: problem". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(arguments)"}: ${issue.message}`)
    .join("; ");
}

/** Builds a {@linkcode RegisteredTool} from a zod schema and an executor. */
export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): RegisteredTool {
  const schema = spec.schema.strict();
  return {
    definition: {
      name: spec.name,
      description: spec.description,
      parameters: toParameters(schema),
    },
    parse(args: unknown): Record<string, unknown> {
      const result = schema.safeParse(args);
      if (!result.success) throw new ToolArgumentError(spec.name, describeIssues(result.error));
      return result.data as Record<string, unknown>;
    },
    execute(args, ctx) {
      return spec.execute(args as z.output<S>, ctx);
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
