/**
 * Parses the part of an `fs:` store URL after the colon:
 * `./dir?durability=fsync|group|none`.
 *
 * @module
 */
import { InvalidInputError } from "../core/errors.ts";

/** When an append is acknowledged relative to the disk. */
export type Durability = "fsync" | "group" | "none";

/** Every durability mode. */
export const DURABILITY_MODES: readonly Durability[] = ["fsync", "group", "none"];

/** A parsed `fs:` target. */
export interface FsStoreOptions {
  /** The store's directory. */
  readonly dir: string;
  /** The durability policy; default "group". */
  readonly durability: Durability;
}

/** Parses `target`; throws InvalidInput naming the bad part. */
export function parseFsTarget(target: string): FsStoreOptions {
  if (typeof target !== "string" || target.length === 0) {
    throw new InvalidInputError(
      `fs: needs a directory, as in fs:./data?durability=group, got ${JSON.stringify(target)}`,
    );
  }
  const question = target.indexOf("?");
  const dir = question < 0 ? target : target.slice(0, question);
  if (dir.length === 0) {
    throw new InvalidInputError(`fs: target ${JSON.stringify(target)} names no directory`);
  }
  let durability: Durability = "group";
  if (question >= 0) {
    for (const [name, value] of new URLSearchParams(target.slice(question + 1))) {
      if (name !== "durability") {
        throw new InvalidInputError(
          `fs: target ${JSON.stringify(target)} has unknown option ${
            JSON.stringify(name)
          } (known: durability)`,
        );
      }
      if (!(DURABILITY_MODES as readonly string[]).includes(value)) {
        throw new InvalidInputError(
          `fs: durability must be one of ${DURABILITY_MODES.join(", ")}, got ${
            JSON.stringify(value)
          }`,
        );
      }
      durability = value as Durability;
    }
  }
  return { dir, durability };
}
