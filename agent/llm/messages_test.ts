import assert from "node:assert/strict";
import {
  addUsage,
  assistantMessage,
  makeUsage,
  messageText,
  parseToolArguments,
  toolCallFromRaw,
  toolResultMessage,
} from "./messages.ts";

Deno.test("messages: tool arguments parse to an object; empty text means no arguments", () => {
  assert.deepEqual(parseToolArguments('{"a":[1,2]}'), { arguments: { a: [1, 2] } });
  assert.deepEqual(parseToolArguments("  "), { arguments: {} });
});

Deno.test("messages: unreadable or non-object arguments are reported, never thrown", () => {
  const broken = toolCallFromRaw("c", "t", '{"path": "a');
  assert.deepEqual(broken.arguments, {});
  assert.match(broken.argumentsError!, /not valid JSON/);
  assert.equal(broken.rawArguments, '{"path": "a');
  assert.match(parseToolArguments("[1]").argumentsError!, /not a JSON object/);
});

Deno.test("messages: usage sums keep 'not reported' apart from zero", () => {
  const a = makeUsage(10, 5, { reasoningTokens: 2 });
  const b = makeUsage(1, 1);
  assert.deepEqual(addUsage(a, b), {
    inputTokens: 11,
    outputTokens: 6,
    totalTokens: 17,
    reasoningTokens: 2,
  });
  assert.equal("cacheReadTokens" in addUsage(b, b), false);
});

Deno.test("messages: constructors build the tagged parts and text joins only text parts", () => {
  const message = assistantMessage([
    { kind: "text", text: "a" },
    { kind: "thinking", thinking: { text: "hidden" } },
    { kind: "text", text: "b" },
  ]);
  assert.equal(messageText(message), "ab");
  assert.deepEqual(toolResultMessage("c1", "out", { isError: true }), {
    role: "tool",
    content: [{
      kind: "tool_result",
      toolResult: { callId: "c1", content: "out", isError: true },
    }],
  });
});
