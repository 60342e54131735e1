import assert from "node:assert/strict";
import { Deadlines, type Timed } from "./deadlines.ts";

const item = (deadline: number, name = String(deadline)) => ({ deadline, slot: -1, name });
type Item = Timed & { name: string };
const names = (items: Item[]) => items.map((i) => i.name);

Deno.test("expired returns the due requests, oldest first, and stops at the first still ahead", () => {
  const d = new Deadlines<Item>();
  const items = [10, 20, 20, 30, 40].map((t, i) => item(t, `r${i}`));
  for (const i of items) d.add(i, true);
  assert.equal(d.size, 5);
  assert.deepEqual(names(d.expired(5)), []);
  assert.deepEqual(names(d.expired(20)), ["r0", "r1", "r2"]);
  assert.equal(d.size, 2);
  assert.deepEqual(names(d.expired(1_000)), ["r3", "r4"]);
  assert.equal(d.size, 0);
});

Deno.test("a settled request is released at once and never expires", () => {
  const d = new Deadlines<Item>();
  const [a, b, c] = [item(10, "a"), item(10, "b"), item(10, "c")];
  for (const i of [a, b, c]) d.add(i, true);
  d.delete(b);
  d.delete(a);
  assert.equal(d.size, 1);
  assert.equal(a.slot, -1);
  assert.deepEqual(names(d.expired(100)), ["c"]);
  d.delete(c); // already expired: nothing happens
  assert.equal(d.size, 0);
});

Deno.test("a timeout of its own is watched wherever its deadline falls", () => {
  const d = new Deadlines<Item>();
  d.add(item(100, "long"), true);
  const short = item(5, "short");
  d.add(short, false);
  assert.deepEqual(names(d.expired(10)), ["short"]);
  const other = item(7, "other");
  d.add(other, false);
  d.delete(other);
  assert.deepEqual(names(d.expired(50)), []);
  assert.deepEqual(names(d.expired(100)), ["long"]);
});

Deno.test("the ring grows past its first size and keeps every slot while one request stays unanswered", () => {
  const d = new Deadlines<Item>();
  const stuck = item(1, "stuck");
  d.add(stuck, true);
  const later: Item[] = [];
  for (let i = 0; i < 5_000; i++) {
    const it = item(2 + i, `r${i}`);
    d.add(it, true);
    later.push(it);
    if (i % 3 !== 0) d.delete(it); // most settle, some stay
  }
  assert.equal(d.size, 1 + Math.ceil(5_000 / 3));
  const due = d.expired(2 + 2_999);
  assert.equal(due[0], stuck);
  assert.deepEqual(due.slice(1), later.filter((_, i) => i % 3 === 0 && i <= 2_999));
  d.clear();
  assert.equal(d.size, 0);
  assert.ok(later.every((i) => i.slot === -1));
  // Still usable after clear.
  const next = item(1, "next");
  d.add(next, true);
  assert.deepEqual(names(d.expired(1)), ["next"]);
});
