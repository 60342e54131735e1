import assert from "node:assert/strict";
import { Chain, type TurnMeta, TurnTable } from "./turn_table.ts";

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

Deno.test("the turn table finds turns noted in id order, out of order, and replaced", () => {
  const table = new TurnTable();
  const meta = (turnId: string, contextId = "1"): TurnMeta => ({
    turnId,
    parentTurnId: "0",
    depth: 1,
    typeId: "t",
    typeVersion: 1,
    contentHash: "00".repeat(32),
    contextId,
  });
  for (let id = 10; id <= 5_000; id += 10) table.set(String(id), meta(String(id)));
  table.set("15", meta("15")); // below the newest: out of order
  table.set("9007199254740993", meta("9007199254740993")); // beyond exact numbers
  table.set("20", meta("20", "7")); // noted again, read through another context
  assert.equal(table.get("10")?.turnId, "10");
  assert.equal(table.get("5000")?.turnId, "5000");
  assert.equal(table.get("15")?.turnId, "15");
  assert.equal(table.get("20")?.contextId, "7");
  assert.equal(table.get("9007199254740993")?.turnId, "9007199254740993");
  assert.equal(table.get("9007199254740992"), undefined);
  assert.equal(table.get("11"), undefined);
  assert.equal(table.get("5010"), undefined);
  table.set("5010", meta("5010"));
  assert.equal(table.get("5010")?.turnId, "5010");
});

Deno.test("the turn table gives back every field as noted, past its first growth", () => {
  const table = new TurnTable();
  const hash = (i: number) => i.toString(16).padStart(64, "0");
  for (let i = 1; i <= 3_000; i++) {
    table.set(String(100 + i), {
      turnId: String(100 + i),
      parentTurnId: i === 1 ? "0" : String(99 + i),
      depth: i,
      typeId: i % 2 ? "odd.type" : "even.type",
      typeVersion: i % 7 + 1,
      contentHash: hash(i),
      contextId: String(i % 3 + 1),
    });
  }
  assert.deepEqual(table.get("2101"), {
    turnId: "2101",
    parentTurnId: "2100",
    depth: 2001,
    typeId: "odd.type",
    typeVersion: 2001 % 7 + 1,
    contentHash: hash(2001),
    contextId: String(2001 % 3 + 1),
  });
  assert.equal(table.get("101")?.parentTurnId, "0");
  assert.equal(table.get("3100")?.contentHash, hash(3000));
  assert.equal(table.get("0101"), undefined); // not a canonical id
});

Deno.test("metadata the columns cannot hold is kept as it is", () => {
  const table = new TurnTable();
  const odd = {
    turnId: "5",
    parentTurnId: "9007199254740993",
    depth: 2,
    typeId: "t",
    typeVersion: 1,
    contentHash: "ABC",
    contextId: "1",
  };
  table.set("5", odd);
  assert.deepEqual(table.get("5"), odd);
});

Deno.test("only canonical decimal ids are taken as numbers", () => {
  const table = new TurnTable();
  const meta = (turnId: string) => ({
    turnId,
    parentTurnId: "0",
    depth: 1,
    typeId: "t",
    typeVersion: 1,
    contentHash: "ab".repeat(32),
    contextId: "1",
  });
  for (const id of ["1e3", "0x10", " 12", "12 ", "+5", "00", "9007199254740992"]) {
    table.set(id, meta(id));
    assert.equal(table.get(id)?.turnId, id, id);
  }
  assert.equal(table.get("1000"), undefined);
  assert.equal(table.get("16"), undefined);
  assert.equal(table.get("12"), undefined);
  assert.equal(table.get("5"), undefined);
  assert.equal(table.get("0"), undefined);
  const chain = new Chain();
  chain.set(1, "1e3");
  assert.equal(chain.get(1), "1e3");
});

Deno.test("a hash given as bytes is kept as those bytes", () => {
  const table = new TurnTable();
  const bytes = Uint8Array.from({ length: 32 }, (_, i) => i * 8);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const meta = {
    turnId: "42",
    parentTurnId: "41",
    depth: 2,
    typeId: "t",
    typeVersion: 1,
    contentHash: hex,
    contextId: "1",
  };
  table.set("42", meta, bytes);
  assert.deepEqual(table.get("42"), meta);
});

Deno.test("a chain's last turn, asked for by the next append, stays right when replaced", () => {
  const chain = new Chain();
  chain.set(5, "7");
  assert.equal(chain.get(5), "7");
  chain.set(5, "18446744073709551615"); // beyond 2^53: kept as a string
  assert.equal(chain.get(5), "18446744073709551615");
  chain.set(6, "9");
  assert.equal(chain.get(5), "18446744073709551615");
  assert.equal(chain.get(6), "9");
  chain.set(5, "8");
  assert.equal(chain.get(5), "8");
  assert.equal(chain.get(6), "9");
});
