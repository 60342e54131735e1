/**
 * Filesystem-tree snapshots: capture a directory as content-addressed
 * blobs and tree objects, upload it, attach it to a turn, diff two
 * snapshots; and the msgpack tree object encoding underneath.
 *
 * @module
 */
export * from "./tree.ts";
export * from "./snapshot.ts";
