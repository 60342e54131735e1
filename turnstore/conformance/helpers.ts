/**
 * What the conformance tests share: payload bytes, values unique to a run,
 * the typed-error assertion, and chain helpers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AppendedTurn, ForgeStore, StoredTurn } from "../core/types.ts";
import { isTurnStoreError, type TurnStoreErrorCode } from "../core/errors.ts";

const te = new TextEncoder();
/** UTF-8 bytes of `s`. */
export const bytes = (s: string): Uint8Array => te.encode(s);
let uniq = 0;
/** A value no other test run uses, so shared servers do not see collisions. */
export const unique = (label: string): string =>
  `${label}-${Date.now().toString(36)}-${(uniq++).toString(36)}`;

/** Awaits `what` and asserts it fails with a `code` error whose message names each of `mentions`. */
export async function rejectsWith<T>(
  what: Promise<T> | (() => Promise<T>),
  code: TurnStoreErrorCode,
  mentions: string[] = [],
): Promise<Error> {
  try {
    await (typeof what === "function" ? what() : what);
  } catch (error) {
    assert.ok(
      isTurnStoreError(error, code),
      `expected a ${code} error, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
    );
    for (const m of mentions) {
      assert.ok(
        (error as Error).message.includes(m),
        `the ${code} message should name ${m}: ${(error as Error).message}`,
      );
    }
    return error as Error;
  }
  assert.fail(`expected a ${code} error, but the call succeeded`);
}

/** Appends `n` small turns to a context, awaiting each; returns them in order. */
export async function appendN(
  store: ForgeStore,
  contextId: string,
  n: number,
  label = "t",
): Promise<AppendedTurn[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await store.appendTurn({
        contextId,
        typeId: "test.item",
        typeVersion: 1,
        payload: bytes(`${label}${i}`),
      }),
    );
  }
  return out;
}

/** The ids of `turns`, in order. */
export const ids = (turns: readonly StoredTurn[]): string[] => turns.map((t) => t.turnId);

/** Asserts each turn is the child of the one before it, one deeper. */
export function checkChain(turns: readonly StoredTurn[]): void {
  for (let i = 1; i < turns.length; i++) {
    assert.equal(
      turns[i].parentTurnId,
      turns[i - 1].turnId,
      "each turn's parent is the one before",
    );
    assert.equal(turns[i].depth, turns[i - 1].depth + 1, "depth grows by one");
  }
}
