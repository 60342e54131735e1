/**
 * The protocol peer's typed view: projects a msgpack payload through the
 * registry bundle the way the CXDB server does, as strictly. A value whose
 * wire family differs from the declared type projects as null (a float
 * where a unix_ms or u64 is declared, a string where a u32 is, …), so a
 * record encoder that writes the wrong family fails in our tests as it would
 * against the real server.
 *
 * @module
 */
import { type RegistryBundle, toHex } from "@forge/turnstore";
import { readWireValue, tagOf, type WireValue } from "./msgpack_view.ts";

/** A field as a bundle declares it. */
export interface FieldLike {
  /** Name shown in the typed view. */
  name: string;
  /** Declared type: u64, u32, string, unix_ms, ref, array, … */
  type: string;
  /** Enum name, for integer fields shown as labels. */
  enum?: string;
  /** Referenced type, for `ref` fields. */
  ref?: string;
  /** Item type of an array: a type name or a ref. */
  items?: string | { type: string; ref?: string };
}

/** Every type and enum of the bundles a server holds. */
export interface BundleLookup {
  /** type id → version → tag → field. */
  types: Record<string, Record<string, Record<string, FieldLike>>>;
  /** enum name → value → label. */
  enums: Record<string, Record<string, string>>;
}

/** The payload's type (or version) is not in any bundle: the server answers 424. */
export class TypeDescriptorMissing extends Error {}

/** Merges bundles into one lookup, as a server holding all of them sees them. */
export function bundleLookup(bundles: readonly RegistryBundle[]): BundleLookup {
  const out: BundleLookup = { types: {}, enums: {} };
  for (const b of bundles) {
    for (const [typeId, entry] of Object.entries(b.types)) {
      for (const [ver, def] of Object.entries(entry.versions)) {
        (out.types[typeId] ??= {})[ver] = def.fields as Record<string, FieldLike>;
      }
    }
    Object.assign(out.enums, b.enums ?? {});
  }
  return out;
}

const I64_MAX = 0x7fff_ffff_ffff_ffffn;

/** Projects `payload` (msgpack) as `typeId` at `version` (newest when undefined). */
export function projectPayload(
  payload: Uint8Array,
  typeId: string,
  version: number | undefined,
  opts: URLSearchParams,
  bundle: BundleLookup,
): unknown {
  return project(readWireValue(payload), typeId, version, opts, bundle, true);
}

function project(
  value: WireValue,
  typeId: string,
  version: number | undefined,
  opts: URLSearchParams,
  bundle: BundleLookup,
  top: boolean,
): unknown {
  const versions = bundle.types[typeId];
  if (!versions) {
    if (top) throw new TypeDescriptorMissing(typeId);
    return renderAny(value, opts);
  }
  const v = version ?? Math.max(...Object.keys(versions).map(Number));
  const fields = versions[String(v)];
  if (!fields) throw new TypeDescriptorMissing(`${typeId} v${v}`);
  if (value.kind !== "map") {
    if (top) throw new TypeError("payload is not a map");
    return renderAny(value, opts);
  }
  const byTag = new Map<string, WireValue>();
  for (const [k, item] of value.entries) {
    const tag = tagOf(k);
    if (tag !== undefined) byTag.set(tag.toString(), item);
  }
  const data: Record<string, unknown> = {};
  for (const [tag, field] of Object.entries(fields)) {
    const raw = byTag.get(tag);
    if (raw !== undefined) data[field.name] = render(raw, field.type, opts, bundle, field);
  }
  return data;
}

/** A non-negative integer of any width, or undefined. */
function asU64(v: WireValue): bigint | undefined {
  return (v.kind === "uint" || v.kind === "int") && v.value >= 0n ? v.value : undefined;
}

/** An integer that fits i64, or undefined. */
function asI64(v: WireValue): bigint | undefined {
  return (v.kind === "uint" || v.kind === "int") && v.value <= I64_MAX ? v.value : undefined;
}

function render(
  value: WireValue,
  type: string,
  opts: URLSearchParams,
  bundle: BundleLookup,
  field?: FieldLike,
): unknown {
  if (field?.enum) {
    const n = asU64(value);
    const label = n === undefined ? undefined : bundle.enums[field.enum]?.[n.toString()];
    if (label !== undefined) {
      const mode = opts.get("enum_render");
      if (mode === "number") return Number(n);
      if (mode === "both") return { label, value: Number(n) };
      return label;
    }
  }
  if (field?.ref && (type === "ref" || type === "map")) {
    return project(value, field.ref, undefined, opts, bundle, false);
  }
  switch (type) {
    case "u64":
    case "uint64":
    case "i64":
    case "int64": {
      const n = asU64(value);
      if (n === undefined) return null;
      return opts.get("u64_format") === "number" ? Number(n) : n.toString();
    }
    case "u32":
    case "uint32":
    case "u8":
    case "uint8":
    case "int32": {
      const n = asI64(value);
      return n === undefined ? null : Number(n);
    }
    case "string":
      return value.kind === "str" ? value.value : null;
    case "bool":
      return value.kind === "bool" ? value.value : null;
    case "bytes":
    case "typed_blob":
      return value.kind === "bin" ? renderBytes(value.value, opts) : null;
    case "array": {
      if (value.kind !== "array") return null;
      const items = field?.items;
      return value.items.map((item) => {
        if (typeof items === "object" && items.ref) {
          return project(item, items.ref, undefined, opts, bundle, false);
        }
        const itemType = typeof items === "string" ? items : items?.type;
        return itemType === undefined
          ? renderAny(item, opts)
          : render(item, itemType, opts, bundle);
      });
    }
    case "unix_ms":
    case "time_ms":
    case "timestamp_ms": {
      const n = asI64(value);
      if (n === undefined) return null;
      if (opts.get("time_render") === "unix_ms") return Number(n);
      const date = new Date(Number(n));
      return Number.isNaN(date.getTime()) ? null : date.toISOString();
    }
    default:
      return renderAny(value, opts);
  }
}

/** A value shown without a declared type. */
function renderAny(value: WireValue, opts: URLSearchParams): unknown {
  switch (value.kind) {
    case "nil":
      return null;
    case "bool":
    case "str":
      return value.value;
    case "uint":
      return opts.get("u64_format") === "number" ? Number(value.value) : value.value.toString();
    case "int":
      return Number(value.value);
    case "float":
      return value.value;
    case "bin":
      return renderBytes(value.value, opts);
    case "array":
      return value.items.map((item) => renderAny(item, opts));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of value.entries) {
        const key = k.kind === "str" ? k.value : k.kind === "uint" ? k.value.toString() : "";
        out[key] = renderAny(v, opts);
      }
      return out;
    }
    default:
      return null;
  }
}

/** Bytes as `bytes_render` asks: base64 (default), hex or length. */
export function renderBytes(bytes: Uint8Array, opts: URLSearchParams): unknown {
  const mode = opts.get("bytes_render");
  if (mode === "hex") return toHex(bytes);
  if (mode === "len_only") return bytes.length;
  return b64(bytes);
}

/** Standard base64. */
export function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
