/**
 * A msgpack reader that keeps each value's wire family: an unsigned integer,
 * a signed one, a float, a string, bytes… JavaScript decoders (ours uses
 * @msgpack/msgpack) turn both `cb 42 7a …` (float64) and `cf 00 00 01 …`
 * (uint64) into the same number, and no msgpack library reports which one it
 * read; the CXDB server's typed view does tell them apart. The protocol peer
 * projects through this reader so that it is as strict as the server, and
 * tests use it to check what the record encoder writes.
 *
 * @module
 */

/** One msgpack value with its wire family. */
export type WireValue =
  | { readonly kind: "nil" }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "uint"; readonly value: bigint; readonly code: number }
  | { readonly kind: "int"; readonly value: bigint; readonly code: number }
  | { readonly kind: "float"; readonly value: number; readonly code: number }
  | { readonly kind: "str"; readonly value: string }
  | { readonly kind: "bin"; readonly value: Uint8Array }
  | { readonly kind: "array"; readonly items: readonly WireValue[] }
  | { readonly kind: "map"; readonly entries: readonly (readonly [WireValue, WireValue])[] }
  | { readonly kind: "ext"; readonly type: number; readonly data: Uint8Array };

/** Malformed msgpack: truncated, an unused code, nested too deep, or bytes left over. */
export class MsgpackViewError extends Error {
  /** Always "Malformed". */
  readonly code = "Malformed";
}

/** Deepest nesting read; deeper input is refused rather than overflowing the stack. */
export const MAX_DEPTH = 512;

const td = new TextDecoder("utf-8", { fatal: true });

/** Reads exactly one msgpack value from `bytes`. */
export function readWireValue(bytes: Uint8Array): WireValue {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) {
      throw new MsgpackViewError(`msgpack ends at byte ${bytes.length}; ${n} more needed at ${at}`);
    }
    const start = at;
    at += n;
    return start;
  };
  const u8 = () => v.getUint8(need(1));
  const u16 = () => v.getUint16(need(2));
  const u32 = () => v.getUint32(need(4));
  const raw = (n: number) => bytes.slice(need(n), at);

  const read = (depth: number): WireValue => {
    if (depth > MAX_DEPTH) throw new MsgpackViewError(`msgpack nested deeper than ${MAX_DEPTH}`);
    const code = u8();
    if (code <= 0x7f) return { kind: "uint", value: BigInt(code), code };
    if (code >= 0xe0) return { kind: "int", value: BigInt(code - 0x100), code };
    if (code >= 0x80 && code <= 0x8f) return map(code & 0x0f, depth);
    if (code >= 0x90 && code <= 0x9f) return array(code & 0x0f, depth);
    if (code >= 0xa0 && code <= 0xbf) return str(code & 0x1f);
    switch (code) {
      case 0xc0:
        return { kind: "nil" };
      case 0xc2:
      case 0xc3:
        return { kind: "bool", value: code === 0xc3 };
      case 0xc4:
        return { kind: "bin", value: raw(u8()) };
      case 0xc5:
        return { kind: "bin", value: raw(u16()) };
      case 0xc6:
        return { kind: "bin", value: raw(u32()) };
      case 0xc7:
        return ext(u8());
      case 0xc8:
        return ext(u16());
      case 0xc9:
        return ext(u32());
      case 0xca:
        return { kind: "float", value: v.getFloat32(need(4)), code };
      case 0xcb:
        return { kind: "float", value: v.getFloat64(need(8)), code };
      case 0xcc:
        return { kind: "uint", value: BigInt(u8()), code };
      case 0xcd:
        return { kind: "uint", value: BigInt(u16()), code };
      case 0xce:
        return { kind: "uint", value: BigInt(u32()), code };
      case 0xcf:
        return { kind: "uint", value: v.getBigUint64(need(8)), code };
      case 0xd0:
        return { kind: "int", value: BigInt(v.getInt8(need(1))), code };
      case 0xd1:
        return { kind: "int", value: BigInt(v.getInt16(need(2))), code };
      case 0xd2:
        return { kind: "int", value: BigInt(v.getInt32(need(4))), code };
      case 0xd3:
        return { kind: "int", value: v.getBigInt64(need(8)), code };
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return ext(1 << (code - 0xd4));
      case 0xd9:
        return str(u8());
      case 0xda:
        return str(u16());
      case 0xdb:
        return str(u32());
      case 0xdc:
        return array(u16(), depth);
      case 0xdd:
        return array(u32(), depth);
      case 0xde:
        return map(u16(), depth);
      case 0xdf:
        return map(u32(), depth);
      default:
        throw new MsgpackViewError(
          `msgpack code 0x${code.toString(16)} at byte ${at - 1} is unused`,
        );
    }
  };
  const str = (n: number): WireValue => {
    try {
      return { kind: "str", value: td.decode(bytes.subarray(need(n), at)) };
    } catch (error) {
      if (error instanceof MsgpackViewError) throw error;
      throw new MsgpackViewError(`msgpack string before byte ${at} is not UTF-8`);
    }
  };
  const ext = (n: number): WireValue => {
    const type = v.getInt8(need(1));
    return { kind: "ext", type, data: raw(n) };
  };
  const array = (n: number, depth: number): WireValue => {
    // Every item takes at least one byte: a count beyond what is left is malformed.
    if (n > bytes.length - at) {
      throw new MsgpackViewError(`msgpack array of ${n} items is truncated`);
    }
    const items: WireValue[] = [];
    for (let i = 0; i < n; i++) items.push(read(depth + 1));
    return { kind: "array", items };
  };
  const map = (n: number, depth: number): WireValue => {
    if (2 * n > bytes.length - at) {
      throw new MsgpackViewError(`msgpack map of ${n} entries is truncated`);
    }
    const entries: [WireValue, WireValue][] = [];
    for (let i = 0; i < n; i++) entries.push([read(depth + 1), read(depth + 1)]);
    return { kind: "map", entries };
  };

  const value = read(0);
  if (at !== bytes.length) {
    throw new MsgpackViewError(`${bytes.length - at} bytes follow the msgpack value`);
  }
  return value;
}

/** The field tag a map key names (an unsigned integer, or a digit string), or undefined. */
export function tagOf(key: WireValue): bigint | undefined {
  if (key.kind === "uint") return key.value;
  if (key.kind === "int" && key.value >= 0n) return key.value;
  if (key.kind === "str" && /^[0-9]{1,20}$/.test(key.value)) return BigInt(key.value);
  return undefined;
}
