import assert from "node:assert/strict";
import { InFlight } from "./in_flight.ts";

let seq = 0;
const req = (id: number) => ({ id, sentSeq: seq++ });

Deno.test("requests are found by id, removed once, and listed in the order they were sent", () => {
  const f = new InFlight<ReturnType<typeof req>>();
  const a = req(7);
  const b = req(3);
  const c = req(12);
  for (const r of [a, b, c]) f.set(r);
  assert.equal(f.size, 3);
  assert.equal(f.get(3), b);
  assert.equal(f.get(4), undefined);
  assert.deepEqual(f.values(), [a, b, c]);
  assert.ok(f.delete(3));
  assert.ok(!f.delete(3));
  assert.equal(f.get(3), undefined);
  assert.equal(f.size, 2);
  f.clear();
  assert.equal(f.size, 0);
  assert.equal(f.get(7), undefined);
  assert.deepEqual(f.values(), []);
});

Deno.test("ids that share a slot (an old request still unanswered, or more than 1,024 in flight) are all kept", () => {
  const f = new InFlight<ReturnType<typeof req>>();
  const stuck = req(5);
  f.set(stuck);
  const later = Array.from({ length: 3_000 }, (_, i) => req(6 + i)); // wraps the ring twice
  for (const r of later) f.set(r);
  f.set(req(5 + 1024 * 4)); // the stuck request's slot again
  assert.equal(f.size, 3_002);
  assert.equal(f.get(5), stuck);
  for (const r of later) assert.equal(f.get(r.id), r);
  assert.equal(f.get(5 + 1024 * 4)?.id, 5 + 1024 * 4);
  assert.equal(f.get(5 + 1024), later[1024 - 1]);
  // Answers in any order.
  for (const r of later.filter((r) => r.id % 2 === 0)) assert.ok(f.delete(r.id));
  assert.ok(f.delete(5));
  assert.equal(f.get(5), undefined);
  assert.equal(f.size, 3_002 - 1_500 - 1);
  const left = f.values();
  assert.equal(left.length, f.size);
  assert.ok(left.every((r, i) => i === 0 || left[i - 1].sentSeq < r.sentSeq), "in send order");
  // A freed slot takes a new request again.
  const next = req(5 + 1024 * 8);
  f.set(next);
  assert.equal(f.get(next.id), next);
});
