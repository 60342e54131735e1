import assert from "node:assert/strict";
import { TurnClaims } from "./claims.ts";

Deno.test("claimed turns are remembered, unclaimed ones are not", () => {
  const claims = new TurnClaims();
  for (let id = 10; id < 5_000; id += 2) claims.claim(String(id));
  assert.ok(claims.has("10"));
  assert.ok(claims.has("4998"));
  assert.ok(!claims.has("11"));
  assert.ok(!claims.has("5000"));
  assert.equal(claims.max, "4998");
});

Deno.test("only the latest claims are kept once the limit is reached", () => {
  const claims = new TurnClaims(1_000);
  for (let id = 1; id <= 2_500; id++) claims.claim(String(id));
  assert.ok(!claims.has("1"));
  assert.ok(!claims.has("1500"));
  assert.ok(claims.has("1501"));
  assert.ok(claims.has("2500"));
});

Deno.test("ids of 2^53 and above are kept exactly, apart from their neighbours", () => {
  const claims = new TurnClaims();
  claims.claim("9007199254740993"); // 2^53 + 1: as a number it would equal 2^53
  assert.ok(claims.has("9007199254740993"));
  assert.ok(!claims.has("9007199254740992"));
  assert.equal(claims.max, "9007199254740993");
  claims.see("18446744073709551615");
  assert.equal(claims.max, "18446744073709551615");
});

Deno.test("the watermark is the highest id seen, claimed or not, compared as numbers", () => {
  const claims = new TurnClaims();
  claims.see("99");
  claims.claim("100");
  claims.see("7");
  assert.equal(claims.max, "100");
  assert.ok(!claims.has("99"));
});
