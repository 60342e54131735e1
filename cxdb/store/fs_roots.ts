/**
 * What the server's HTTP API says about a turn's filesystem root, for the
 * store's rule that a turn's own root never changes (ATTACH_FS would simply
 * overwrite it).
 *
 * @module
 */
import { ROOT_TURN_ID } from "@forge/turnstore";
import type { CxdbHttpClient } from "../http/client.ts";
import type { TurnMeta } from "./turn_index.ts";

/** The root the server shows for a turn, its own or inherited; undefined when none or unlistable. */
export async function serverRoot(
  http: CxdbHttpClient,
  turnId: string,
): Promise<string | undefined> {
  try {
    return (await http.listFs(turnId))?.fs_root_hash;
  } catch {
    return undefined; // the root is not a tree the server can list
  }
}

/**
 * The root the server shows for a turn when it differs from its parent's (so
 * it is the turn's own); undefined without an HTTP API.
 */
export async function serverOwnRoot(
  http: CxdbHttpClient | undefined,
  meta: TurnMeta,
): Promise<string | undefined> {
  if (!http) return undefined;
  const mine = await serverRoot(http, meta.turnId);
  if (mine === undefined) return undefined;
  const parents = meta.parentTurnId === ROOT_TURN_ID
    ? undefined
    : await serverRoot(http, meta.parentTurnId);
  return mine !== parents ? mine : undefined;
}
