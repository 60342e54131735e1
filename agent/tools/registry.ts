/**
 * The tool registry (spec §3.8): lookup, argument validation, execution
 * under a per-tool timeout, and output truncation. Every failure becomes an
 * error result the model sees; nothing a model sends can make it throw.
 *
 * @module
 */

import { z } from "zod";
import type {
  RegisteredTool,
  ToolContext,
  ToolDefinition,
  ToolInvocation,
  ToolInvocationResult,
  ToolOutput,
  ToolRegistry,
  ToolRegistryOptions,
} from "./types.ts";
import { ToolArgumentError } from "./types.ts";
import { EnvError } from "../env/types.ts";
import { describeIssues } from "./define.ts";
import { outputLimitFor, truncateToolOutput } from "./truncate.ts";

/** A tool call ran longer than its configured per-tool timeout. */
export class ToolTimeoutError extends Error {
  /** Stable, machine-readable code. */
  readonly code = "ToolTimeout" as const;

  /** Creates the error for `tool` after `ms` milliseconds. */
  constructor(tool: string, ms: number) {
    super(`tool ${tool} did not finish within its ${ms} ms timeout and was cancelled`);
    this.name = "ToolTimeoutError";
  }
}

/** Turns anything a tool threw into the text the model sees. */
export function describeToolError(tool: string, error: unknown): string {
  if (error instanceof EnvError) return `${error.code}: ${error.message}`;
  if (error instanceof ToolArgumentError) return error.message;
  if (error instanceof ToolTimeoutError) return `Timeout: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `Error in ${tool}: ${message}`;
}

/** Validates plain JSON-Schema tools (registered without `parse`) through zod. */
function jsonSchemaParser(tool: RegisteredTool): (args: unknown) => Record<string, unknown> {
  let schema: z.ZodType;
  try {
    schema = z.fromJSONSchema(tool.definition.parameters as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new ToolArgumentError(
      tool.definition.name,
      `its parameter schema cannot be used: ${(error as Error).message}`,
    );
  }
  return (args) => {
    const result = schema.safeParse(args);
    if (!result.success) {
      throw new ToolArgumentError(tool.definition.name, describeIssues(result.error.issues));
    }
    return result.data as Record<string, unknown>;
  };
}

/** Parses a model's arguments (object or JSON text) into a plain object. */
export function parseArguments(tool: string, raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === "string") {
    if (raw.trim() === "") return {};
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new ToolArgumentError(
        tool,
        `arguments are not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ToolArgumentError(tool, `arguments must be a JSON object, got ${typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** The default {@linkcode ToolRegistry}: latest registration wins. */
export class DefaultToolRegistry implements ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();
  readonly #parsers = new Map<string, (args: unknown) => Record<string, unknown>>();
  readonly #options: ToolRegistryOptions;

  /** Creates a registry holding `tools`, with limits overridden by `options`. */
  constructor(tools: Iterable<RegisteredTool> = [], options: ToolRegistryOptions = {}) {
    this.#options = options;
    for (const tool of tools) this.register(tool);
  }

  /** {@inheritDoc ToolRegistry.register} */
  register(tool: RegisteredTool): void {
    const { name, parameters } = tool.definition;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new TypeError(`tool name ${JSON.stringify(name)} must match [A-Za-z0-9_-]{1,64}`);
    }
    if (parameters.type !== "object") {
      throw new TypeError(`tool ${name}: parameters must be a JSON Schema with type "object"`);
    }
    const parser = tool.parse ?? jsonSchemaParser(tool);
    this.#tools.delete(name); // re-registration moves the tool to the end
    this.#tools.set(name, tool);
    this.#parsers.set(name, parser);
  }

  /** {@inheritDoc ToolRegistry.unregister} */
  unregister(name: string): boolean {
    this.#parsers.delete(name);
    return this.#tools.delete(name);
  }

  /** {@inheritDoc ToolRegistry.get} */
  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  /** {@inheritDoc ToolRegistry.names} */
  names(): string[] {
    return [...this.#tools.keys()];
  }

  /** {@inheritDoc ToolRegistry.definitions} */
  definitions(): ToolDefinition[] {
    return [...this.#tools.values()].map((t) => t.definition);
  }

  /** {@inheritDoc ToolRegistry.execute} */
  async execute(
    call: ToolInvocation,
    ctx: Omit<ToolContext, "callId">,
  ): Promise<ToolInvocationResult> {
    const started = performance.now();
    const output = await this.#run(call, ctx);
    const limit = outputLimitFor(call.name, this.#options);
    const content = truncateToolOutput(output.content, limit);
    return {
      name: call.name,
      callId: call.callId,
      content,
      fullContent: output.content,
      isError: output.isError,
      truncated: content !== output.content,
      image: output.image,
      durationMs: Math.round(performance.now() - started),
    };
  }

  async #run(call: ToolInvocation, ctx: Omit<ToolContext, "callId">): Promise<ToolOutput> {
    const tool = this.#tools.get(call.name);
    if (!tool) {
      return {
        content: `Unknown tool: ${call.name}. Available tools: ${this.names().join(", ")}`,
        isError: true,
      };
    }
    const timeoutMs = this.#options.timeoutsMs?.[call.name];
    const timeout = new AbortController();
    const signal = AbortSignal.any([ctx.signal, timeout.signal]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const args = this.#parsers.get(call.name)!(parseArguments(call.name, call.arguments));
      const run = tool.execute(args, { ...ctx, signal, callId: call.callId });
      if (timeoutMs === undefined) return await run;
      // A tool that ignores its signal still yields its slot to the timeout.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new ToolTimeoutError(call.name, timeoutMs);
          reject(error); // settle first, so an answer the abort provokes cannot win the race
          timeout.abort(error);
        }, timeoutMs);
      });
      run.catch(() => {}); // its late failure, if any, is not the caller's concern
      return await Promise.race([run, expired]);
    } catch (error) {
      return { content: describeToolError(call.name, error), isError: true };
    } finally {
      clearTimeout(timer);
    }
  }
}
