/**
 * Our own fstree vectors, assembled by hand from the documented tree format
 * (a msgpack array sorted by name of maps {"1": name, "2": kind, "3": mode,
 * "4": size, "5": hash}; keys as one-character strings; kind u8 0xcc, mode
 * u32 0xce, size u64 0xcf, hash bin8 of 32 bytes), byte by byte. File
 * contents are official BLAKE3 test inputs, so their hashes are known without
 * our hash function; a tree's own hash is BLAKE3 of the bytes below.
 *
 * The workspace: `a.txt` (1 byte, 0o644) and `b/` (0o755) holding `c` (2
 * bytes, 0o600).
 *
 * @module
 */
import { ascii, BLAKE3_VECTORS, blake3Input, hex } from "../../protocol/testdata/vectors.ts";

/** The files of the vector workspace: path, content, mode. */
export const FILES: readonly { path: string; content: Uint8Array; mode: number; hash: string }[] = [
  { path: "a.txt", content: blake3Input(1), mode: 0o644, hash: BLAKE3_VECTORS[1].hash },
  { path: "b/c", content: blake3Input(2), mode: 0o600, hash: BLAKE3_VECTORS[2].hash },
];

/** Mode of directory `b`. */
export const DIR_MODE = 0o755;

/** The tree of `b/`: one file `c`. */
export const SUBTREE: Uint8Array = hex(
  "91", //                              array of 1 entry
  "85", //                              map of 5
  "a131",
  "a1",
  ascii("c"), //                        "1": "c"
  "a132",
  "cc00", //                            "2": u8 0 (file)
  "a133",
  "ce00000180", //                      "3": u32 0o600 = 384
  "a134",
  "cf0000000000000002", //              "4": u64 2
  "a135",
  "c420",
  BLAKE3_VECTORS[2].hash, //            "5": bin8 32, BLAKE3 of the content
);

/** The root tree, given the hash of {@link SUBTREE}: `a.txt` then `b`. */
export function rootTree(subtreeHash: string): Uint8Array {
  return hex(
    "92", //                            array of 2 entries, sorted by name
    "85",
    "a131",
    "a5",
    ascii("a.txt"), //                  "1": "a.txt"
    "a132",
    "cc00", //                          "2": file
    "a133",
    "ce000001a4", //                    "3": 0o644 = 420
    "a134",
    "cf0000000000000001", //            "4": 1 byte
    "a135",
    "c420",
    BLAKE3_VECTORS[1].hash, //          "5": its hash
    "85",
    "a131",
    "a1",
    ascii("b"), //                      "1": "b"
    "a132",
    "cc01", //                          "2": u8 1 (directory)
    "a133",
    "ce000001ed", //                    "3": 0o755 = 493
    "a134",
    "cf0000000000000000", //            "4": 0 (a directory has no size)
    "a135",
    "c420",
    subtreeHash, //                     "5": the subtree's hash
  );
}
