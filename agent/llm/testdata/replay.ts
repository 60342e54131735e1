/**
 * Replays one recording three ways against a real loopback server: streamed
 * event by event, streamed in 7-byte pieces, and (when a JSON twin exists)
 * as a non-streamed answer, so a test can check that every cut gives the same
 * events and that `stream()` and `complete()` agree.
 *
 * @module
 */

import { foldStream } from "../accumulate.ts";
import type { LlmProvider, LlmRequest, LlmResponse, LlmStreamEvent } from "../types.ts";
import { type CannedReply, LoopbackServer } from "./loopback_server.ts";

/** What one replay produced. */
export interface Replayed {
  /** The events of the stream cut at event boundaries. */
  readonly events: LlmStreamEvent[];
  /** The streamed response (event-by-event cut). */
  readonly streamed: LlmResponse;
  /** The streamed response from the 7-byte cut. */
  readonly streamedSmall: LlmResponse;
  /** The non-streamed response, when a JSON recording was given. */
  readonly completed?: LlmResponse;
  /** The request bodies the server received, in order. */
  readonly bodies: Record<string, unknown>[];
  /** The request paths (with their query) the server received, in order. */
  readonly paths: string[];
}

/** Replays `sse` (and `json`, if given) through the provider `make` builds for a base URL. */
export async function replay(
  make: (baseUrl: string) => LlmProvider,
  request: LlmRequest,
  sse: string,
  json?: string,
  extra: Partial<CannedReply> = {},
): Promise<Replayed> {
  const replies: CannedReply[] = [
    { ...extra, file: sse, chunkEvents: true },
    { ...extra, file: sse, chunkBytes: 7 },
  ];
  if (json) replies.push({ ...extra, file: json });
  await using server = LoopbackServer.start(...replies);
  const provider = make(server.baseUrl);
  const events: LlmStreamEvent[] = [];
  const streamed = await foldStream(provider.stream(request), (e) => events.push(e));
  const smallEvents: LlmStreamEvent[] = [];
  const streamedSmall = await foldStream(provider.stream(request), (e) => smallEvents.push(e));
  // The 7-byte cut must give the same events, not merely the same response.
  const strip = (list: LlmStreamEvent[]) => JSON.stringify(list.filter((e) => e.type !== "finish"));
  if (strip(events) !== strip(smallEvents)) {
    throw new Error(`${sse}: the 7-byte cut gave different events than the event cut`);
  }
  const completed = json ? await provider.complete(request) : undefined;
  return {
    events,
    streamed,
    streamedSmall,
    completed,
    bodies: server.received.map((r) => r.body),
    paths: server.received.map((r) => r.path + r.query),
  };
}
