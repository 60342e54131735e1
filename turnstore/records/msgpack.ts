/**
 * msgpack for tagged records. Strings, bytes and booleans are written and
 * everything is read by @msgpack/msgpack; this module adds what that library
 * cannot express: maps whose keys are unsigned integers (the field tags), and
 * integers written as msgpack integers at every magnitude. (With 64-bit
 * support on, the library writes a JavaScript number above 2^32 as float64,
 * which a reader that trusts the declared u64 or unix_ms type rejects.)
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { PooledBytes } from "../core/pooled_bytes.ts";

const valueEncoder = new Encoder({ useBigInt64: true });
const utf8Encoder = new TextEncoder();
/** Encoded records are small and made at every append: they share pooled buffers. */
const encodedRecords = new PooledBytes();

/** Bytes of a msgpack str header for a UTF-8 length (the library's choice: smallest form). */
function strHeaderSize(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x1_0000 ? 3 : 5;
}

/** Appends msgpack to a growing buffer: integer-keyed map headers ours, values the library's. */
export class TaggedWriter {
  #buf: Uint8Array;
  /** A view of #buf for multi-byte integers: one per buffer, not one per integer. */
  #view: DataView;
  #pos = 0;

  /** Starts writing into `buffer` (grown when it fills), or a fresh 256-byte one. */
  constructor(buffer: Uint8Array = new Uint8Array(256)) {
    this.#buf = buffer;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /** Forgets what was written, keeping the buffer for the next value. */
  reset(): void {
    this.#pos = 0;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = b;
  }

  #header(fix: number, fixMax: number, c16: number, c32: number, n: number): void {
    if (n <= fixMax) return this.#byte(fix | n);
    this.#reserve(5);
    const v = this.#view;
    if (n <= 0xffff) {
      this.#buf[this.#pos] = c16;
      v.setUint16(this.#pos + 1, n);
      this.#pos += 3;
    } else {
      this.#buf[this.#pos] = c32;
      v.setUint32(this.#pos + 1, n);
      this.#pos += 5;
    }
  }

  /**
   * Leaves one byte for a map header written later with {@link patchFixmap}
   * (a map of at most 15 entries), and returns its position.
   */
  placeholder(): number {
    this.#reserve(1);
    return this.#pos++;
  }

  /** Writes the fixmap header of `n` entries (0 to 15) at a {@link placeholder}. */
  patchFixmap(at: number, n: number): void {
    if (n > 15 || n < 0) throw new RangeError(`a fixmap holds 0 to 15 entries, not ${n}`);
    this.#buf[at] = 0x80 | n;
  }

  /**
   * Writes a string: the same bytes the library writes (a str header of the
   * smallest form, then UTF-8), without its per-value setup. ASCII is copied
   * by code unit; other well-formed text goes through TextEncoder; a string
   * with a lone surrogate goes to the library, whose bytes for it differ from
   * TextEncoder's.
   */
  string(s: string): void {
    const n = s.length;
    if (n < 0x100) {
      const start = this.#pos;
      const header = n < 32 ? 1 : 2;
      this.#reserve(header + n);
      const buf = this.#buf;
      let p = start + header;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = -1;
          break;
        }
        buf[p++] = c;
      }
      if (p >= 0) {
        if (header === 1) buf[start] = 0xa0 | n;
        else {
          buf[start] = 0xd9;
          buf[start + 1] = n;
        }
        this.#pos = p;
        return;
      }
    }
    if (!s.isWellFormed()) return this.value(s);
    // UTF-8 takes n to 3n bytes: encode after a header sized for n, then move
    // the text if its real length needs a larger header.
    const guess = strHeaderSize(n);
    this.#reserve(5 + 3 * n);
    const start = this.#pos;
    const { written } = utf8Encoder.encodeInto(s, this.#buf.subarray(start + guess));
    const header = strHeaderSize(written);
    if (header !== guess) {
      this.#buf.copyWithin(start + header, start + guess, start + guess + written);
    }
    const buf = this.#buf;
    if (header === 1) buf[start] = 0xa0 | written;
    else if (header === 2) {
      buf[start] = 0xd9;
      buf[start + 1] = written;
    } else if (header === 3) {
      buf[start] = 0xda;
      this.#view.setUint16(start + 1, written);
    } else {
      buf[start] = 0xdb;
      this.#view.setUint32(start + 1, written);
    }
    this.#pos = start + header + written;
  }

  /** Writes a map header for `n` entries. */
  mapHeader(n: number): void {
    this.#header(0x80, 15, 0xde, 0xdf, n);
  }

  /** Writes an array header for `n` items. */
  arrayHeader(n: number): void {
    this.#header(0x90, 15, 0xdc, 0xdd, n);
  }

  /**
   * Writes a field tag (0 to 127: a positive fixint, the one byte the
   * library would write too; larger tags go through {@link value}).
   */
  tag(n: number): void {
    if (n >= 0 && n <= 0x7f && Number.isInteger(n)) this.#byte(n);
    else this.value(n);
  }

  /**
   * Writes an unsigned integer in the smallest msgpack form that holds it
   * (positive fixint, uint8, uint16, uint32 or uint64). Throws RangeError
   * for anything else: a fraction, a negative number, a value above 2^64-1.
   */
  uint(n: number | bigint): void {
    if (typeof n === "number") {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new RangeError(`${n} is not an unsigned integer msgpack can hold exactly`);
      }
      if (n < 0x80) return this.#byte(n);
      if (n < 0x1_0000_0000) return this.#fixed(n < 0x100 ? 0xcc : n < 0x1_0000 ? 0xcd : 0xce, n);
      return this.#u64(BigInt(n));
    }
    if (n < 0n || n > 0xffff_ffff_ffff_ffffn) {
      throw new RangeError(`${n} is outside the u64 range`);
    }
    if (n < 0x1_0000_0000n) return this.uint(Number(n));
    this.#u64(n);
  }

  /**
   * Writes a signed integer: non-negative ones as {@link uint}, negative ones
   * in the smallest of negative fixint, int8, int16, int32, int64.
   */
  int(n: number | bigint): void {
    if (typeof n === "number" && !Number.isSafeInteger(n)) {
      throw new RangeError(`${n} is not an integer msgpack can hold exactly`);
    }
    if (n >= 0) return this.uint(n);
    if (typeof n === "bigint" && n < -0x8000_0000_0000_0000n) {
      throw new RangeError(`${n} is outside the int64 range`);
    }
    const v = Number(n);
    if (v >= -32) return this.#byte(v & 0xff);
    if (v >= -0x80) return this.#fixed(0xd0, v);
    if (v >= -0x8000) return this.#fixed(0xd1, v);
    if (v >= -0x8000_0000) return this.#fixed(0xd2, v);
    this.#reserve(9);
    this.#buf[this.#pos] = 0xd3;
    this.#view.setBigInt64(this.#pos + 1, BigInt(n));
    this.#pos += 9;
  }

  /** A 1-, 2- or 4-byte big-endian integer after its code (int codes take negatives). */
  #fixed(code: number, n: number): void {
    const width = code === 0xcc || code === 0xd0 ? 1 : code === 0xcd || code === 0xd1 ? 2 : 4;
    this.#reserve(1 + width);
    const v = this.#view;
    this.#buf[this.#pos] = code;
    if (width === 1) v.setUint8(this.#pos + 1, n & 0xff);
    else if (width === 2) v.setUint16(this.#pos + 1, n & 0xffff);
    else v.setUint32(this.#pos + 1, n >>> 0);
    this.#pos += 1 + width;
  }

  #u64(n: bigint): void {
    this.#reserve(9);
    this.#buf[this.#pos] = 0xcf;
    this.#view.setBigUint64(this.#pos + 1, n);
    this.#pos += 9;
  }

  /** Writes a boolean (one byte: 0xc3 true, 0xc2 false, what the library writes too). */
  bool(b: boolean): void {
    this.#byte(b ? 0xc3 : 0xc2);
  }

  /**
   * Writes any msgpack value (strings, bytes, booleans, null; integers go
   * through {@link int} so that they stay integers at every magnitude).
   */
  value(v: unknown): void {
    if ((typeof v === "number" && Number.isSafeInteger(v)) || typeof v === "bigint") {
      return this.int(v);
    }
    const bytes = valueEncoder.encodeSharedRef(v);
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** The bytes written so far (a copy; a small one is a view into a shared buffer). */
  finish(): Uint8Array {
    return encodedRecords.copyPrefix(this.#buf, this.#pos);
  }
}

/** What the key converter uses of the library's decoder (version 3). */
interface DecoderInternals {
  /** The map being read when a key is converted. */
  stack: { top(): { map: Record<string, unknown> } };
}

// Strings decode as the library decodes them, lone surrogates included (the
// writer sends them as the library encodes them, and stores hold such
// records): a strict UTF-8 check refused those and cost a scan of every
// string on every read, so there is none.

// Integer map keys come back as numbers (bigints when they need 64 bits); the
// library wants string or number keys, and object keys become strings anyway,
// so a tag reads the same whether it was written as 7 or as "7".
//
// A key a map already holds (7 twice, or 7 and "7") is refused: the library
// would keep the last value, another reader (CXDB's projection) may keep the
// first, and the same bytes would mean two records. The library calls the
// converter as its own method while the map is on top of its stack.
const decoder = new Decoder({
  useBigInt64: true,
  mapKeyConverter: function (this: DecoderInternals, key: unknown): string | number {
    let out: string | number;
    if (typeof key === "string" || typeof key === "number") out = key;
    else if (typeof key === "bigint") out = key.toString();
    else throw new TypeError(`unsupported msgpack map key of type ${typeof key}`);
    if (Object.hasOwn(this.stack.top().map, out)) {
      throw new RangeError(`map key ${JSON.stringify(String(out))} appears twice`);
    }
    return out;
  } as (key: unknown) => string | number,
});

/** Decodes one msgpack value; 64-bit integers come back as bigint. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
