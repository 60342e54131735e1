/**
 * CXDB turn store: pipelined append throughput and sequential append latency,
 * each against raw pre-encoded APPEND_TURN frames sent over a plain socket to
 * the same protocol peer in the same run.
 */
import { blake3Bytes, type ForgeStore } from "../turnstore/mod.ts";
import { openCxdbStore } from "../cxdb/store/store.ts";
import { startPeerThread } from "../cxdb/testing/peer_thread.ts";
import { encodeAppend, encodeFrame, FrameParser, MsgType } from "../cxdb/protocol/wire.ts";
import { concurrentOpsPerSecond, type Reporter } from "./harness.ts";

/** Payload size of every append. */
export const PAYLOAD_BYTES = 1024;
/** Appends in flight in the pipelined figure. */
export const IN_FLIGHT = 64;
/** Raw and store alternate in this many slices of each measurement. */
const SLICES = 8;

/** A raw socket sending pre-encoded frames; parser and buffer live as long as it does. */
export class RawPipe {
  readonly #conn: Deno.Conn;
  readonly #parser = new FrameParser();
  readonly #buf = new Uint8Array(256 * 1024);
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Sends `frames` with at most `window` unanswered; resolves when all are answered. */
  async run(frames: Uint8Array[], window: number): Promise<void> {
    let sent = 0;
    let answered = 0;
    const sendUpTo = async () => {
      const batch: Uint8Array[] = [];
      while (sent < frames.length && sent - answered < window) batch.push(frames[sent++]);
      if (batch.length === 0) return;
      const out = batch.length === 1
        ? batch[0]
        : new Uint8Array(batch.reduce((s, f) => s + f.length, 0));
      if (batch.length > 1) {
        let o = 0;
        for (const f of batch) {
          out.set(f, o);
          o += f.length;
        }
      }
      for (let w = 0; w < out.length;) w += await this.#conn.write(out.subarray(w));
    };
    await sendUpTo();
    while (answered < frames.length) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new Error("peer closed the raw connection");
      this.#parser.push(this.#buf.subarray(0, n));
      for (let f = this.#parser.next(); f; f = this.#parser.next()) {
        if (f.header.msgType !== MsgType.APPEND_TURN) throw new Error("raw append failed");
        answered++;
      }
      await sendUpTo();
    }
  }
}

/** `count` pre-encoded APPEND_TURN frames of distinct 1 KiB payloads, request ids from `firstReqId`. */
export function appendFrames(contextId: string, count: number, firstReqId: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(PAYLOAD_BYTES).fill(i & 0xff);
    payload[0] = 0xc5; // make each payload distinct
    payload[1] = i >> 8;
    payload[2] = i & 0xff;
    const { flags, payload: body } = encodeAppend({
      contextId,
      parentTurnId: "0",
      typeId: "bench.item",
      typeVersion: 1,
      encoding: 1,
      compression: 0,
      uncompressedLength: payload.length,
      contentHash: blake3Bytes(payload),
      payload,
    });
    frames.push(encodeFrame(MsgType.APPEND_TURN, flags, BigInt(firstReqId + i), body));
  }
  return frames;
}

/** Appends each path makes before the figure's slices: raw frames first, then store appends. */
export const WARM_APPENDS = 2000;

/**
 * Warms both paths up on a context of their own: `count` raw frames (request
 * ids from 1), then `count` store appends, 64 in flight each.
 */
export async function warmUp(store: ForgeStore, pipe: RawPipe, count: number): Promise<void> {
  const ctx = await store.createContext();
  await pipe.run(appendFrames(ctx.contextId, count, 1), IN_FLIGHT);
  await concurrentOpsPerSecond(count, IN_FLIGHT, (i) =>
    store.appendTurn({
      contextId: ctx.contextId,
      typeId: "bench.item",
      typeVersion: 1,
      payload: new Uint8Array(PAYLOAD_BYTES).fill(i & 0xff),
    }));
}

/** Runs the CXDB benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  // The peer runs on its own thread, as a server would in its own process.
  await using peer = await startPeerThread();
  await using store = await openCxdbStore(peer.url);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: peer.port });
  raw.setNoDelay(true);
  const pipe = new RawPipe(raw);
  try {
    const n = 20_000;
    await warmUp(store, pipe, WARM_APPENDS);

    // Raw and store run in alternating slices, so load that drifts during the
    // run (this machine is shared) falls on both sides alike.
    const rawCtx = await store.createContext();
    const ctx = await store.createContext();
    const frames = appendFrames(rawCtx.contextId, n, 1_000_000);
    const payloads = Array.from({ length: n }, (_, i) => {
      const p = new Uint8Array(PAYLOAD_BYTES).fill(i & 0xff);
      p[1] = i >> 8;
      p[2] = i & 0xff;
      return p;
    });
    const slice = n / SLICES;
    let rawTime = 0;
    let storeTime = 0;
    for (let s = 0; s < SLICES; s++) {
      const from = s * slice;
      let start = performance.now();
      await pipe.run(frames.slice(from, from + slice), IN_FLIGHT);
      rawTime += performance.now() - start;
      start = performance.now();
      await concurrentOpsPerSecond(slice, IN_FLIGHT, (i) =>
        store.appendTurn({
          contextId: ctx.contextId,
          typeId: "bench.item",
          typeVersion: 1,
          payload: payloads[from + i],
        }));
      storeTime += performance.now() - start;
    }
    const rawRate = n / (rawTime / 1000);
    const storeRate = n / (storeTime / 1000);
    reporter.report(
      `cxdb store append (${PAYLOAD_BYTES} B, ${IN_FLIGHT} in flight) vs raw pre-encoded APPEND frames`,
      storeRate,
      rawRate,
      "appends/s",
      ">= 0.8",
      "same loopback peer, same run; the store validates, hashes (BLAKE3), encodes and keeps its index",
    );

    // Sequential latency: one append at a time, TCP_NODELAY on the client,
    // again in alternating slices.
    const m = 2000;
    const seqFrames = appendFrames(rawCtx.contextId, m, 5_000_000);
    const seqCtx = await store.createContext();
    const seqSlice = m / SLICES;
    let rawSeq = 0;
    let storeSeq = 0;
    for (let s = 0; s < SLICES; s++) {
      const from = s * seqSlice;
      let start = performance.now();
      for (let i = from; i < from + seqSlice; i++) await pipe.run([seqFrames[i]], 1);
      rawSeq += performance.now() - start;
      start = performance.now();
      for (let i = from; i < from + seqSlice; i++) {
        await store.appendTurn({
          contextId: seqCtx.contextId,
          typeId: "bench.item",
          typeVersion: 1,
          payload: payloads[i],
        });
      }
      storeSeq += performance.now() - start;
    }
    const rawMs = rawSeq / m;
    const storeMs = storeSeq / m;
    reporter.report(
      `cxdb store sequential append latency (${PAYLOAD_BYTES} B) vs raw frame round-trip`,
      storeMs,
      rawMs,
      "ms",
      "<= 1.5",
      "TCP_NODELAY on the client; the real server leaves Nagle on, so expect ~44 ms there whatever the client",
    );
  } finally {
    raw.close();
  }
}

if (import.meta.main) {
  const { Reporter } = await import("./harness.ts");
  await run(new Reporter());
}
