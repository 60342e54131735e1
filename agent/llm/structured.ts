/**
 * Structured output: a zod schema in, a validated object out, on every
 * provider. The schema becomes a `responseFormat` that each adapter sends in
 * the provider's native form (OpenAI `text.format`, Chat Completions
 * `response_format`, Gemini `responseJsonSchema`, Anthropic a forced tool
 * call); the answer is parsed and checked against the same zod schema, and a
 * mismatch is a `StructuredOutputError` naming each wrong field.
 *
 * @module
 */

import { z } from "zod";
import { ConfigurationError, type OutputIssue, StructuredOutputError } from "./errors.ts";
import { messageText } from "./messages.ts";
import type { JsonObject, LlmProvider, LlmRequest, LlmResponse } from "./types.ts";

/** The outcome of {@linkcode OutputSchema.safeParse}. */
export type OutputParseResult<T> =
  | { readonly success: true; readonly data: T }
  | {
    readonly success: false;
    readonly error: {
      readonly issues: readonly {
        readonly path: ReadonlyArray<PropertyKey>;
        readonly message: string;
      }[];
    };
  };

/**
 * What structured output needs of a schema; a zod 4 `z.object(…)` is one.
 * (Named structurally so zod's own types stay out of this module's API.)
 */
export interface OutputSchema<T> {
  /** Validates `data`. */
  safeParse(data: unknown): OutputParseResult<T>;
}

/** Options of `generateObject`. */
export interface GenerateObjectOptions<T> {
  /** The schema the answer must match: a zod object schema. */
  readonly schema: OutputSchema<T>;
  /** A name for the schema, `[a-zA-Z0-9_-]{1,64}` (default "answer"). */
  readonly name?: string;
  /** What the answer is, for the model. */
  readonly description?: string;
  /**
   * Ask the provider to enforce the schema strictly where it can (OpenAI
   * `strict`, which wants every property required and no extra ones).
   */
  readonly strict?: boolean;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** A validated structured answer and the response it came in. */
export interface GeneratedObject<T> {
  /** The answer, validated against the schema. */
  readonly object: T;
  /** The whole response (usage, id, model…). */
  readonly response: LlmResponse;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The JSON Schema of a zod schema, as providers accept it (no `$schema` key). */
export function jsonSchemaOf(schema: OutputSchema<unknown>): JsonObject {
  if (!(schema instanceof z.ZodType)) {
    throw new ConfigurationError("structured output needs a zod schema (z.object({...}))");
  }
  const json = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) as JsonObject;
  const { $schema: _, ...rest } = json;
  if (rest.type !== "object") {
    throw new ConfigurationError(
      `structured output needs an object schema (got ${
        JSON.stringify(rest.type ?? "none")
      }); wrap the value in z.object({...})`,
    );
  }
  return rest;
}

/**
 * Asks `provider` for an answer matching `options.schema` and returns it
 * validated. Provider errors are thrown as they are; an answer that is not
 * JSON or does not match is a `StructuredOutputError` (code "invalid_output")
 * whose `issues` give each wrong field's path.
 */
export async function generateObject<T>(
  provider: LlmProvider,
  request: LlmRequest,
  options: GenerateObjectOptions<T>,
): Promise<GeneratedObject<T>> {
  const name = options.name ?? "answer";
  if (!NAME.test(name)) {
    throw new ConfigurationError(`structured output name "${name}" must match ${NAME.source}`);
  }
  const response = await provider.complete({
    ...request,
    responseFormat: {
      type: "json_schema",
      name,
      schema: jsonSchemaOf(options.schema),
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    },
  }, options.signal);
  return { object: readObject(response, name, options.schema), response };
}

/**
 * Reads a structured answer from a response: the arguments of a tool call
 * named `name` (how Anthropic answers), else the text (code fences around it
 * are tolerated), validated against `schema`.
 */
export function readObject<T>(response: LlmResponse, name: string, schema: OutputSchema<T>): T {
  const fail = (message: string, issues: OutputIssue[], text: string) =>
    new StructuredOutputError(message, issues, text, {
      provider: response.provider,
      raw: text,
    });
  let value: unknown;
  let text: string;
  const call = response.message.content.find((part) =>
    part.kind === "tool_call" && part.toolCall.name === name
  );
  if (call?.kind === "tool_call") {
    text = call.toolCall.rawArguments;
    if (call.toolCall.argumentsError !== undefined) {
      throw fail(
        `${response.provider}: structured output "${name}" is not JSON: ${call.toolCall.argumentsError}`,
        [{ path: [], message: call.toolCall.argumentsError }],
        text,
      );
    }
    value = call.toolCall.arguments;
  } else {
    text = messageText(response.message);
    const body = text.trim().replace(/^```(?:json)?\s*\n?/i, "").replace(/\n?```$/, "");
    if (body === "") {
      throw fail(
        `${response.provider}: structured output "${name}": the model gave no answer (finish reason ${response.finishReason.reason})`,
        [{ path: [], message: "empty answer" }],
        text,
      );
    }
    try {
      value = JSON.parse(body);
    } catch (error) {
      const message = (error as Error).message;
      throw fail(
        `${response.provider}: structured output "${name}" is not JSON: ${message}`,
        [{ path: [], message: `not JSON: ${message}` }],
        text,
      );
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues: OutputIssue[] = parsed.error.issues.map((issue) => ({
    path: issue.path.map((key) => typeof key === "symbol" ? String(key) : key),
    message: issue.message,
  }));
  const listed = issues.map((issue) =>
    `${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${issue.message}`
  ).join("; ");
  throw fail(
    `${response.provider}: structured output "${name}" does not match its schema: ${listed}`,
    issues,
    text,
  );
}
