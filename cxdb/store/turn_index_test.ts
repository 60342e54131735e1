import assert from "node:assert/strict";
import { Chain } from "./turn_index.ts";

Deno.test("a chain answers the turn at each depth it was told, and nothing else", () => {
  const chain = new Chain();
  assert.equal(chain.get(1), undefined);
  for (let depth = 1; depth <= 100; depth++) chain.set(depth, `t${depth}`);
  assert.equal(chain.get(1), "t1");
  assert.equal(chain.get(100), "t100");
  assert.equal(chain.get(0), undefined);
  assert.equal(chain.get(101), undefined);
  chain.set(50, "again");
  assert.equal(chain.get(50), "again");
});

Deno.test("a chain learnt from its head down (a fork, then pages of history) fills in below", () => {
  const chain = new Chain();
  chain.set(1000, "head");
  assert.equal(chain.get(999), undefined);
  for (let depth = 900; depth < 1000; depth++) chain.set(depth, `t${depth}`);
  chain.set(3, "deep");
  assert.equal(chain.get(900), "t900");
  assert.equal(chain.get(999), "t999");
  assert.equal(chain.get(1000), "head");
  assert.equal(chain.get(3), "deep");
  assert.equal(chain.get(4), undefined);
  assert.equal(chain.get(2), undefined);
  chain.set(5000, "far above");
  assert.equal(chain.get(5000), "far above");
  assert.equal(chain.get(4999), undefined);
});
