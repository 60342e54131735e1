/**
 * msgpack for tagged records. Values are written and read by @msgpack/msgpack;
 * this module adds only what that library cannot express: maps whose keys are
 * unsigned integers (the field tags), which CXDB-native payloads use.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";

const valueEncoder = new Encoder({ useBigInt64: true });

/** Appends msgpack to a growing buffer: integer-keyed map headers ours, values the library's. */
export class TaggedWriter {
  #buf: Uint8Array;
  #pos = 0;

  /** Starts writing into `buffer` (grown when it fills), or a fresh 256-byte one. */
  constructor(buffer: Uint8Array = new Uint8Array(256)) {
    this.#buf = buffer;
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
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = b;
  }

  #header(fix: number, fixMax: number, c16: number, c32: number, n: number): void {
    if (n <= fixMax) return this.#byte(fix | n);
    this.#reserve(5);
    const v = new DataView(this.#buf.buffer);
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

  /** Writes any msgpack value (numbers, bigints, strings, bytes, booleans, null). */
  value(v: unknown): void {
    const bytes = valueEncoder.encodeSharedRef(v);
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

// Integer map keys come back as numbers (bigints when they need 64 bits); the
// library wants string or number keys, and object keys become strings anyway,
// so a tag reads the same whether it was written as 7 or as "7".
const decoder = new Decoder({
  useBigInt64: true,
  mapKeyConverter: (key: unknown): string | number => {
    if (typeof key === "string" || typeof key === "number") return key;
    if (typeof key === "bigint") return key.toString();
    throw new TypeError(`unsupported msgpack map key of type ${typeof key}`);
  },
});

/** Decodes one msgpack value; 64-bit integers come back as bigint. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
