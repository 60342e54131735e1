import assert from "node:assert/strict";
import {
  AutoApproveInterviewer,
  CallbackInterviewer,
  ConsoleInterviewer,
  QueueInterviewer,
  RecordingInterviewer,
} from "./interviewers.ts";
import { DurableInterviewer, InvalidAnswerError } from "./durable.ts";
import { type Question, WaitingForAnswer } from "./types.ts";

const question: Question = {
  text: "Ship it?",
  type: "multiple_choice",
  options: [{ key: "A", label: "[A] Approve" }, { key: "F", label: "[F] Fix" }],
  stage: "review",
};

Deno.test("auto-approve takes the first option, or YES", async () => {
  const auto = new AutoApproveInterviewer();
  assert.equal((await auto.ask(question)).value, "A");
  assert.equal((await auto.ask({ ...question, type: "yes_no", options: [] })).value, "yes");
});

Deno.test("queue answers in order by key or label, then SKIPPED; recording keeps the pairs", async () => {
  const recording = new RecordingInterviewer(new QueueInterviewer(["fix", "A"]));
  assert.equal((await recording.ask(question)).value, "F");
  assert.equal((await recording.ask(question)).value, "A");
  assert.equal((await recording.ask(question)).value, "skipped");
  assert.deepEqual(recording.recordings.map((r) => r.answer.value), ["F", "A", "skipped"]);
});

Deno.test("callback delegates", async () => {
  const cb = new CallbackInterviewer((q) => ({ value: q.options[1].key }));
  assert.equal((await cb.ask(question)).value, "F");
});

Deno.test("console prints the options and re-asks until a valid choice", async () => {
  const lines = ["maybe", "f"];
  let output = "";
  const console = new ConsoleInterviewer({
    readLine: () => Promise.resolve(lines.shift()),
    write: (t) => (output += t),
  });
  const answer = await console.ask(question);
  assert.equal(answer.value, "F");
  assert.match(
    output,
    /\[\?\] Ship it\?\n {2}\[A\] Approve\n {2}\[F\] Fix\nunknown choice "maybe"/,
  );
});

Deno.test("durable: no answer stops the run waiting; a given answer is used once; a wrong one is refused", async () => {
  await assert.rejects(new DurableInterviewer().ask(question), WaitingForAnswer);
  const durable = new DurableInterviewer(new Map([["review", "approve"]]));
  assert.equal((await durable.ask(question)).value, "A");
  await assert.rejects(durable.ask(question), WaitingForAnswer);
  await assert.rejects(
    new DurableInterviewer(new Map([["review", "nope"]])).ask(question),
    InvalidAnswerError,
  );
});
