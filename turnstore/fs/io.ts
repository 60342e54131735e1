/**
 * Positioned, synchronous file I/O. Index slots and log records are small and
 * usually in the page cache, so a synchronous seek + read costs about a
 * microsecond, far less than an async op; the code never awaits between the
 * seek and the read, so two callers cannot interleave.
 *
 * @module
 */

/** Reads up to `length` bytes at `offset`; fewer only when the file ends first. */
export function readAt(file: Deno.FsFile, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  file.seekSync(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = file.readSync(out.subarray(got));
    if (n === null || n === 0) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
}

/** Writes all of `bytes` at `offset`. */
export function writeAt(file: Deno.FsFile, offset: number, bytes: Uint8Array): void {
  file.seekSync(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/** Opens (creating when absent) a file for reading and writing. */
export function openReadWrite(path: string): Deno.FsFile {
  return Deno.openSync(path, { read: true, write: true, create: true });
}

/** Size of an open file in bytes. */
export function sizeOf(file: Deno.FsFile): number {
  return file.statSync().size;
}

/** Flushes a directory entry change (create, rename) to disk. */
export function syncDir(dir: string): void {
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncDataSync();
  } finally {
    handle.close();
  }
}

/**
 * Replaces `path` with `bytes` atomically: write a temp file, sync it, rename
 * it over the target, sync the directory. A crash leaves the old or the new
 * file, never a mix.
 */
export function replaceFileAtomically(dir: string, path: string, bytes: Uint8Array): void {
  const temp = `${path}.tmp`;
  const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
  try {
    writeAt(file, 0, bytes);
    file.syncDataSync();
  } finally {
    file.close();
  }
  Deno.renameSync(temp, path);
  syncDir(dir);
}

/** Little-endian u64 from a number (ids and offsets stay below 2^53). */
export function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Little-endian u64 as a number. */
export function getU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
}
