/**
 * Opening and writing the transport's socket: TCP, or TLS with the
 * handshake done up front; batches written in order, those that arrive while
 * a write is under way together in the next one.
 *
 * @module
 */
import { concatBytes } from "../protocol/wire.ts";
import type { CxdbTlsOptions } from "./options.ts";

/** Opens a TCP or TLS connection; a TLS handshake failure fails here, not on the first read. */
export async function dial(
  hostname: string,
  port: number,
  tls: CxdbTlsOptions | undefined,
): Promise<Deno.Conn> {
  if (!tls) return await Deno.connect({ hostname, port });
  const conn = await Deno.connectTls({ hostname, port, caCerts: tls.caCerts });
  try {
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}

/** Writes all of `bytes` (a socket write may take only part). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Writes one connection's batches in order. While a write is under way, later
 * batches wait and leave together in the next write (fewer system calls under
 * load); batches that lie side by side in memory are joined without a copy.
 */
export class ConnWriter {
  #busy = false;
  #backlog: Uint8Array[] = [];
  /** Settles (never rejects) when the writes started so far are done. */
  done: Promise<void> = Promise.resolve();

  /**
   * Writes to `conn`; a failed write drops what waits and goes to `onError`.
   * Each socket write is counted in `counter.writes`; `onIdle` hears when
   * the writer has nothing left under way (the bytes it was given may be
   * reused then).
   */
  constructor(
    readonly conn: Deno.Conn,
    readonly onError: (error: unknown) => void,
    readonly counter: { writes: number } = { writes: 0 },
    /** Called each time the last write given so far is done (or failed). */
    readonly onIdle?: () => void,
  ) {}

  /** True from a {@link ConnWriter.write} until every write given so far is done. */
  get busy(): boolean {
    return this.#busy;
  }

  /** Queues `bytes` behind everything written before. */
  write(bytes: Uint8Array): void {
    const backlog = this.#backlog;
    if (this.#busy) {
      // Batches encoded in a row are adjacent in the send arena: grow the last view.
      const last = backlog[backlog.length - 1];
      if (
        last && last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset
      ) {
        backlog[backlog.length - 1] = new Uint8Array(
          last.buffer,
          last.byteOffset,
          last.length + bytes.length,
        );
      } else {
        backlog.push(bytes);
      }
      return;
    }
    this.#busy = true;
    backlog.push(bytes);
    this.done = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#backlog.length > 0) {
        const parts = this.#backlog;
        this.#backlog = [];
        this.counter.writes++;
        await writeAll(this.conn, parts.length === 1 ? parts[0] : concatBytes(parts));
      }
    } catch (error) {
      this.#backlog = [];
      this.onError(error);
    } finally {
      this.#busy = false;
      this.onIdle?.();
    }
  }
}
