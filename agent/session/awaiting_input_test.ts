import assert from "node:assert/strict";
import { kinds, makeWorkspace, scriptedSession } from "../testing/harness.ts";
import { messageText } from "../llm/messages.ts";
import { endsWithQuestion } from "./session.ts";

Deno.test("awaiting_input: a text-only reply that asks the user something waits for the answer, and the next submit gives it", async () => {
  await using ws = await makeWorkspace({ "a.txt": "x\n" });
  const t = scriptedSession(ws, [
    { text: "I can delete a.txt or empty it.\nWhich do you want?" },
    { toolCalls: [{ name: "write_file", arguments: { file_path: "a.txt", content: "" } }] },
    { text: "Emptied a.txt." },
  ]);
  const asked = await t.session.submit("clean up a.txt");
  assert.equal(asked.stopReason, "awaiting_input");
  assert.equal(asked.question, "I can delete a.txt or empty it.\nWhich do you want?");
  assert.equal(t.session.state, "awaiting_input");
  assert.equal(t.session.pendingQuestion, asked.question);

  const answered = await t.session.submit("empty it");
  assert.equal(answered.stopReason, "completed");
  assert.equal(answered.text, "Emptied a.txt.");
  assert.equal(t.session.state, "idle");
  assert.equal(t.session.pendingQuestion, undefined);
  assert.equal(await Deno.readTextFile(`${ws.dir}/a.txt`), "");
  // The answer reaches the model as the next user turn, after the question.
  const second = t.provider.requests[1].messages;
  assert.deepEqual(second.slice(-2).map((m) => [m.role, messageText(m)]), [
    ["assistant", asked.question],
    ["user", "empty it"],
  ]);
  await t.session.close();
  await t.ended;
  assert.deepEqual(kinds(t.events), [
    "session_start",
    "user_input",
    "assistant_text_end",
    "awaiting_input",
    "processing_end",
    "user_input",
    "assistant_text_end",
    "tool_call_start",
    "tool_call_end",
    "assistant_text_end",
    "processing_end",
    "session_end",
  ]);
  const waiting = t.events.find((e) => e.kind === "awaiting_input");
  assert.ok(waiting?.kind === "awaiting_input" && waiting.question === asked.question);
  const answer = t.events.filter((e) => e.kind === "user_input")[1];
  assert.ok(answer.kind === "user_input" && answer.answers === asked.question);
  const ends = t.events.filter((e) => e.kind === "processing_end");
  assert.deepEqual(ends.map((e) => e.kind === "processing_end" && e.stopReason), [
    "awaiting_input",
    "completed",
  ]);
});

Deno.test("awaiting_input: a question asked with tool calls is not a question to the user; a statement completes", async () => {
  await using ws = await makeWorkspace({ "a.txt": "x\n" });
  const t = scriptedSession(ws, [
    {
      text: "Shall I look first?",
      toolCalls: [{ name: "read_file", arguments: { file_path: "a.txt" } }],
    },
    { text: "It holds x." },
  ]);
  const result = await t.session.submit("what is in a.txt");
  assert.equal(result.stopReason, "completed");
  assert.equal(result.question, undefined);
  assert.equal(t.session.state, "idle");
  assert.ok(!t.events.some((e) => e.kind === "awaiting_input"));
  await t.session.close();
});

Deno.test("awaiting_input: a queued follow-up answers the question at once", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "Which branch?" }, { text: "Using main." }]);
  t.session.followUp("main");
  const result = await t.session.submit("deploy");
  assert.equal(result.stopReason, "completed");
  assert.equal(result.inputs, 2);
  assert.equal(t.session.state, "idle");
  const inputs = t.events.filter((e) => e.kind === "user_input");
  assert.ok(inputs[1].kind === "user_input" && inputs[1].answers === "Which branch?");
  await t.session.close();
});

Deno.test("awaiting_input: detection can be turned off or replaced", async () => {
  await using ws = await makeWorkspace();
  const off = scriptedSession(ws, [{ text: "Anything else?" }], { detectQuestions: false });
  assert.equal((await off.session.submit("hi")).stopReason, "completed");
  await off.session.close();
  const custom = scriptedSession(ws, [{ text: "PLEASE CONFIRM" }], {
    detectQuestions: (text) => text.includes("CONFIRM"),
  });
  assert.equal((await custom.session.submit("hi")).stopReason, "awaiting_input");
  await custom.session.close();
});

Deno.test("awaiting_input: aborting a waiting session closes it", async () => {
  await using ws = await makeWorkspace();
  const t = scriptedSession(ws, [{ text: "Proceed?" }]);
  await t.session.submit("go");
  assert.equal(t.session.state, "awaiting_input");
  t.session.abort();
  await t.ended;
  assert.equal(t.session.state, "closed");
  assert.equal(t.session.finalState, "aborted");
});

Deno.test("awaiting_input: what counts as a question", () => {
  for (
    const text of [
      "Which one?",
      "Should I run the migrations?  \n",
      "Options:\n1. a\n2. b\n\n**Which do you prefer?**",
      'You said "deploy?"',
      "(Do you want tests too?)",
      "どちらにしますか？",
    ]
  ) assert.equal(endsWithQuestion(text), true, text);
  for (
    const text of [
      "Done.",
      "Why? Because the test failed. Fixed it.",
      "```\nwhat?\n```",
      "",
    ]
  ) assert.equal(endsWithQuestion(text), false, text);
});
