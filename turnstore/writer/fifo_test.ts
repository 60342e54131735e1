import assert from "node:assert/strict";
import { Fifo } from "./fifo.ts";

Deno.test("a Fifo gives items back in the order they were pushed, across compactions", () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  let next = 0;
  for (let i = 0; i < 10_000; i++) {
    q.push(i);
    if (i % 3 === 2) assert.equal(q.shift(), next++);
  }
  assert.equal(q.length, 10_000 - next);
  assert.equal(q.peek(), next);
  while (q.length > 5) assert.equal(q.shift(), next++);
  assert.deepEqual(q.takeAll(), [9995, 9996, 9997, 9998, 9999]);
  assert.equal(q.length, 0);
  assert.equal(q.peek(), undefined);
});

Deno.test("draining a Fifo of 50,000 items takes linear time, not quadratic", () => {
  const q = new Fifo<object>();
  for (let i = 0; i < 50_000; i++) q.push({ i });
  let n = 0;
  while (q.shift() !== undefined) n++;
  assert.equal(n, 50_000);
});
