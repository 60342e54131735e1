/**
 * Helpers for the fs backend's tests: temp directories, a "crash" that
 * copies a store's files while it is still open (what a killed process
 * leaves on disk), and byte surgery on the log.
 *
 * @module
 */
import { FsStore } from "./store.ts";
import { decodeHeader, FRAME_HEADER_BYTES } from "./frame.ts";

/** A fresh temp directory. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "forge-fs-test-" });
}

/** Runs `fn` with a fresh temp directory, removed after (whether `fn` passed or threw). */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copies every file under `from` to a new temp dir, as a crash would leave them. */
export async function crashCopy(from: string): Promise<string> {
  const to = await tempDir();
  await copyTree(from, to);
  return to;
}

async function copyTree(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) {
      await Deno.mkdir(dst, { recursive: true });
      await copyTree(src, dst);
    } else if (entry.isFile) {
      await Deno.copyFile(src, dst);
    }
  }
}

/** Opens an FsStore (the class, for its recovery report). */
export function openStore(dir: string, durability = "fsync"): Promise<FsStore> {
  return FsStore.open(`${dir}?durability=${durability}`);
}

/**
 * Where the records of `<dir>/log` end: past the last record whose header is
 * intact and which fits in the file. The zeros a durable writer preallocates
 * after its records do not count.
 */
export async function logSize(dir: string): Promise<number> {
  const log = await Deno.readFile(`${dir}/log`);
  let at = 0;
  while (at + FRAME_HEADER_BYTES <= log.length) {
    const header = decodeHeader(log.subarray(at, at + FRAME_HEADER_BYTES));
    if (!header || at + FRAME_HEADER_BYTES + header.bodyLength > log.length) break;
    at += FRAME_HEADER_BYTES + header.bodyLength;
  }
  return at;
}

/** Flips every bit of the byte at `offset` of `<dir>/log`. */
export async function flipLogByte(dir: string, offset: number): Promise<void> {
  const bytes = await Deno.readFile(`${dir}/log`);
  bytes[offset] ^= 0xff;
  await Deno.writeFile(`${dir}/log`, bytes);
}

/** Cuts `<dir>/log` to `length` bytes. */
export async function cutLog(dir: string, length: number): Promise<void> {
  await Deno.truncate(`${dir}/log`, length);
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Appends `n` turns with payloads `${label}${i}` and returns their ids. */
export async function appendMany(
  store: FsStore,
  contextId: string,
  n: number,
  label = "t",
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = await store.appendTurn({
      contextId,
      typeId: "test.item",
      typeVersion: 1,
      payload: bytes(`${label}${i}`),
    });
    ids.push(t.turnId);
  }
  return ids;
}
