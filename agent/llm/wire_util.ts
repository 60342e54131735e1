/**
 * Small helpers the wire formats share: reading untyped JSON safely and
 * merging provider options.
 *
 * @module
 */

import { ConfigurationError, InvalidResponseError } from "./errors.ts";
import type { SseEvent } from "./sse.ts";
import type { ImageData, JsonObject, LlmRequest } from "./types.ts";

/** An untyped JSON object, for reading provider payloads. */
export type Loose = Record<string, unknown>;

/** The value as an object, or an empty one. */
export function obj(value: unknown): Loose {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value as Loose : {};
}

/** The value as an array, or an empty one. */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The value as a finite number, or undefined. */
export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Parses an SSE event's data as a JSON object; bad data is an InvalidResponseError. */
export function sseJson(provider: string, event: SseEvent): Loose {
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch (error) {
    throw new InvalidResponseError(
      `${provider}: stream event "${event.event}" is not JSON: ${event.data.slice(0, 200)}`,
      { provider, cause: error },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidResponseError(
      `${provider}: stream event "${event.event}" is not a JSON object`,
      { provider },
    );
  }
  return parsed as Loose;
}

/**
 * Parses an SSE event's data like `sseJson`, except that a named event this
 * adapter does not know may carry data that is not a JSON object: it is then
 * returned as undefined, to be passed on rather than fail the stream.
 */
export function sseJsonOrSkip(
  provider: string,
  event: SseEvent,
  known: (name: string) => boolean,
): Loose | undefined {
  // Parsed first: nearly every event is a JSON object, and then its name does
  // not matter, so the name is looked up only for data that is not one.
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    return parsed as Loose;
  }
  if (event.event !== "message" && !known(event.event)) return undefined;
  return sseJson(provider, event); // throws the error that says what was wrong
}

/** Requires the response JSON to be an object. */
export function responseObject(provider: string, json: unknown): Loose {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new InvalidResponseError(`${provider}: response is not a JSON object`, {
      provider,
      raw: json,
    });
  }
  return json as Loose;
}

/** The request's provider options for `provider`, without the keys the adapter handles itself. */
export function providerOptionsFor(
  request: LlmRequest,
  provider: string,
  handled: readonly string[] = [],
): JsonObject {
  const options = { ...(request.providerOptions?.[provider] ?? {}) };
  for (const key of handled) delete options[key];
  return options;
}

/** The system and developer messages' text, joined by blank lines. */
export function systemText(request: LlmRequest): string | undefined {
  const texts: string[] = [];
  for (const message of request.messages) {
    if (message.role !== "system" && message.role !== "developer") continue;
    for (const part of message.content) if (part.kind === "text") texts.push(part.text);
  }
  return texts.length === 0 ? undefined : texts.join("\n\n");
}

/**
 * Checks an image has exactly one source, and a MIME type with inline bytes;
 * returns the URL to send (a `data:` URL for bytes) for providers that take one.
 */
export function imageSource(image: ImageData, provider: string): string {
  if ((image.data === undefined) === (image.url === undefined)) {
    throw new ConfigurationError(`${provider}: an image needs exactly one of data and url`, {
      provider,
    });
  }
  if (image.data !== undefined) {
    if (image.mediaType === undefined || !image.mediaType.startsWith("image/")) {
      throw new ConfigurationError(
        `${provider}: an inline image needs an image/* mediaType (got ${
          image.mediaType ?? "none"
        })`,
        { provider },
      );
    }
    return `data:${image.mediaType};base64,${image.data}`;
  }
  return image.url!;
}
