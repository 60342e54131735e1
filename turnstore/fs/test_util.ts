/**
 * Helpers for the fs backend's tests: temp directories, a "crash" that
 * copies a store's files while it is still open (what a killed process
 * leaves on disk), and byte surgery on the log.
 *
 * @module
 */
import { FsStore } from "./store.ts";

/** A fresh temp directory. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "forge-fs-test-" });
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

/** Size of `<dir>/log`. */
export async function logSize(dir: string): Promise<number> {
  return (await Deno.stat(`${dir}/log`)).size;
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
