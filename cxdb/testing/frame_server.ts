/**
 * A raw CXDB-framed TCP server on 127.0.0.1 for tests that need a broken or
 * lying peer: it reads whole request frames and hands each to a callback,
 * which writes whatever answer (or none) the test wants. The in-repo peer
 * (`peer.ts`) speaks the protocol correctly; this one speaks what it is told.
 *
 * @module
 */

/** The frame header: `u32 len | u16 type | u16 flags | u64 req_id`. */
const HEADER = 16;

/**
 * One frame: the header, then `payload`. `len` defaults to the payload's
 * length; a test may make it lie.
 */
export function frame(
  type: number,
  reqId: bigint,
  payload: Uint8Array,
  len: number = payload.length,
): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setBigUint64(8, reqId, true);
  out.set(payload, HEADER);
  return out;
}

/** Called for each whole request frame a connection receives, in order. */
export type FrameHandler = (
  conn: Deno.Conn,
  type: number,
  reqId: bigint,
  body: Uint8Array,
) => Promise<void>;

/** A running frame server: its port, disposed by closing it and every connection. */
export interface FrameServer extends AsyncDisposable {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
}

/**
 * Starts a server that calls `onFrame` for each request frame. A handler's
 * rejection is ignored (a client that went away), so a test sees only what
 * its client does.
 */
export function startFrameServer(onFrame: FrameHandler): FrameServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    let held = new Uint8Array(0);
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      const more = new Uint8Array(held.length + n);
      more.set(held);
      more.set(buf.subarray(0, n), held.length);
      held = more;
      while (held.length >= HEADER) {
        const v = new DataView(held.buffer, held.byteOffset);
        const len = v.getUint32(0, true);
        if (held.length < HEADER + len) break;
        const type = v.getUint16(4, true);
        const reqId = v.getBigUint64(8, true);
        const body = held.slice(HEADER, HEADER + len);
        held = held.slice(HEADER + len);
        await onFrame(conn, type, reqId, body).catch(() => {});
      }
    }
  };
  const served = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      serve(conn).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the client */ }
      }
      await served;
    },
  };
}
