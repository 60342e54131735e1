import assert from "node:assert/strict";
import { InvalidResponseError } from "./errors.ts";
import type { SseEvent } from "./sse.ts";
import { sseJsonOrSkip } from "./wire_util.ts";

const known = (name: string) => name === "delta";
const read = (event: string, data: string) =>
  sseJsonOrSkip("p", { event, data, id: "" } satisfies SseEvent, known);
const failure = (event: string, data: string): InvalidResponseError => {
  try {
    read(event, data);
  } catch (error) {
    assert.ok(error instanceof InvalidResponseError);
    return error;
  }
  throw new Error("expected a failure");
};

Deno.test("sseJsonOrSkip: an object is read whatever the event's name", () => {
  for (const name of ["delta", "message", "future_event"]) {
    assert.deepEqual(read(name, '{"type":"x","n":1}'), { type: "x", n: 1 });
  }
});

Deno.test("sseJsonOrSkip: data that is not an object is skipped for an unknown name only", () => {
  for (const data of ["not json", "[1]", "null", "3", '"s"', ""]) {
    assert.equal(read("telemetry", data), undefined, data);
    assert.match(
      failure("delta", data).message,
      /p: stream event "delta" is not (JSON|a JSON object)/,
    );
    // An unnamed event is the adapter's own: never skipped.
    assert.match(failure("message", data).message, /is not (JSON|a JSON object)/);
  }
  assert.match(failure("delta", "not json").message, /is not JSON: not json/);
  assert.ok(failure("delta", "not json").cause instanceof SyntaxError);
  assert.match(failure("delta", "[1]").message, /is not a JSON object/);
});
