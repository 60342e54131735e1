/**
 * Renders stored turns for people: each turn's id, depth and type, and its
 * payload decoded through the record catalogs the CLI knows, or as hex when
 * no catalog knows the type.
 *
 * @module
 */
import { type RecordCatalog, type StoredTurn, toHex } from "@forge/turnstore";

/** Decodes a turn with the first catalog that knows its type. */
export function decodeTurn(
  turn: StoredTurn,
  catalogs: readonly RecordCatalog[],
): Record<string, unknown> | undefined {
  for (const catalog of catalogs) {
    const decoded = catalog.decode(turn);
    if (decoded) return decoded.value;
  }
  return undefined;
}

/** A turn as plain JSON-safe data: structure from the store, fields from its record type. */
export function turnToJson(
  turn: StoredTurn,
  catalogs: readonly RecordCatalog[],
): Record<string, unknown> {
  let data: unknown;
  try {
    data = decodeTurn(turn, catalogs);
  } catch (error) {
    data = { decodeError: (error as Error).message };
  }
  return {
    turnId: turn.turnId,
    parentTurnId: turn.parentTurnId,
    depth: turn.depth,
    type: `${turn.typeId}@${turn.typeVersion}`,
    contentHash: turn.contentHash,
    ...(data === undefined ? { payloadHex: toHex(turn.payload.subarray(0, 256)) } : { data }),
  };
}

const MAX_VALUE = 120;

function short(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value, jsonSafe);
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > MAX_VALUE ? `${oneLine.slice(0, MAX_VALUE - 1)}…` : oneLine;
}

/** JSON.stringify replacer that renders bytes as hex. */
export function jsonSafe(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? `0x${toHex(value)}` : value;
}

/** One line per turn, then its decoded fields indented, for a terminal. */
export function renderTurn(turn: StoredTurn, catalogs: readonly RecordCatalog[]): string {
  const json = turnToJson(turn, catalogs);
  const head = `#${turn.depth} turn ${turn.turnId} ← ${turn.parentTurnId}  ${json.type}`;
  const data = json.data as Record<string, unknown> | undefined;
  if (!data) return `${head}\n    (${turn.payload.length} bytes, no known record type)`;
  const lines = Object.entries(data).map(([k, v]) => `    ${k}: ${short(v)}`);
  return [head, ...lines].join("\n");
}
