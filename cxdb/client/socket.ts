/**
 * Opening and writing the transport's socket: TCP, or TLS with the
 * handshake done up front.
 *
 * @module
 */
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
