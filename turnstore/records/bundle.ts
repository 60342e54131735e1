/**
 * Registry bundles generated from record definitions, and a catalog that
 * decodes stored turns back into typed values by (type id, version).
 *
 * @module
 */
import { type BundleField, canonicalBundleJson, type RegistryBundle } from "../registry/bundle.ts";
import { blake3Hex } from "../core/hash.ts";
import type { EnumType, FieldEntry, RecordType } from "./fields.ts";
import { CompiledRecordType } from "./record.ts";

function entries(type: RecordType): readonly FieldEntry[] {
  if (!(type instanceof CompiledRecordType)) {
    throw new TypeError(`${type.typeId} was not made by defineRecord, typedRecord or defineStruct`);
  }
  return type.fields;
}

function bundleField(field: FieldEntry): BundleField {
  const m = field.meta;
  const out: BundleField = { name: field.wireName, type: m.wire };
  if (field.optional) out.optional = true;
  if (m.enumType) out.enum = m.enumType.name;
  if (m.wire === "ref") out.ref = m.struct!.typeId;
  if (m.wire === "array") {
    out.items = m.struct ? { type: "ref", ref: m.struct.typeId } : m.items!;
  }
  if (m.semantic) out.semantic = m.semantic;
  if (m.doc) out.doc = m.doc;
  return out;
}

/**
 * Builds a registry bundle describing `types` and every struct and enum they
 * reference. Throws TypeError when two definitions break a registry rule: the
 * same (type, version) defined twice differently, or a tag whose wire type
 * changes between versions.
 */
export function buildBundle(bundleId: string, types: readonly RecordType[]): RegistryBundle {
  const bundle: RegistryBundle = { registry_version: 1, bundle_id: bundleId, types: {}, enums: {} };
  const tagWire = new Map<string, string>();
  const seen = new Set<RecordType>();
  const visit = (type: RecordType) => {
    if (seen.has(type)) return;
    seen.add(type);
    const fields: Record<string, BundleField> = {};
    for (const field of entries(type)) {
      fields[String(field.meta.tag)] = bundleField(field);
      const sigKey = `${type.typeId}#${field.meta.tag}`;
      const sig = `${field.meta.wire}|${field.meta.enumType?.name ?? ""}`;
      const prior = tagWire.get(sigKey);
      if (prior !== undefined && prior !== sig) {
        throw new TypeError(
          `${type.typeId}: tag ${field.meta.tag} is ${prior} in one version and ${sig} in another`,
        );
      }
      tagWire.set(sigKey, sig);
      if (field.meta.enumType) addEnum(bundle, field.meta.enumType);
      if (field.meta.struct) visit(field.meta.struct);
    }
    const entry = bundle.types[type.typeId] ??= { versions: {} };
    const key = String(type.version);
    const existing = entry.versions[key];
    if (existing && JSON.stringify(existing.fields) !== JSON.stringify(fields)) {
      throw new TypeError(`${type.typeId} v${type.version} is defined twice with different fields`);
    }
    entry.versions[key] = { fields };
  };
  for (const type of types) visit(type);
  return bundle;
}

function addEnum(bundle: RegistryBundle, type: EnumType): void {
  const mapping: Record<string, string> = {};
  for (const [value, label] of type.labels) mapping[String(value)] = label;
  const prior = bundle.enums![type.name];
  if (prior && JSON.stringify(prior) !== JSON.stringify(mapping)) {
    throw new TypeError(`enum ${type.name} is defined twice with different values`);
  }
  bundle.enums![type.name] = mapping;
}

/** A decoded turn: which record type it is and its typed value. */
export interface DecodedRecord {
  /** The record type that decoded it. */
  readonly type: RecordType;
  /** The typed value. */
  readonly value: Record<string, unknown>;
}

/** Record types by (type id, version), for decoding stored turns. */
export class RecordCatalog {
  #types = new Map<string, CompiledRecordType<never>>();

  /** Builds a catalog; throws TypeError for a (type id, version) given twice. */
  constructor(types: readonly RecordType[]) {
    for (const type of types) {
      if (!(type instanceof CompiledRecordType)) {
        throw new TypeError(
          `${type.typeId} was not made by defineRecord, typedRecord or defineStruct`,
        );
      }
      const key = `${type.typeId}@${type.version}`;
      if (this.#types.has(key)) throw new TypeError(`${key} is in the catalog twice`);
      this.#types.set(key, type as CompiledRecordType<never>);
    }
  }

  /** Every record type in the catalog. */
  get types(): RecordType[] {
    return [...this.#types.values()];
  }

  /** The record type for (typeId, version), or undefined. */
  get(typeId: string, version: number): RecordType | undefined {
    return this.#types.get(`${typeId}@${version}`);
  }

  /**
   * Decodes a turn's payload with its record type; undefined when the catalog
   * does not know the type. Throws InvalidInput when the bytes do not match.
   */
  decode(
    turn: { typeId: string; typeVersion: number; payload: Uint8Array },
  ): DecodedRecord | undefined {
    const type = this.#types.get(`${turn.typeId}@${turn.typeVersion}`);
    if (!type) return undefined;
    return { type, value: type.decode(turn.payload) as Record<string, unknown> };
  }

  /** A registry bundle for every type in the catalog. */
  bundle(bundleId: string): RegistryBundle {
    return buildBundle(bundleId, this.types);
  }
}

/**
 * Builds a bundle whose id ends with a hash of its content
 * (`<prefix>.<12 hex>`), so that changing any definition yields a new,
 * never-before-published bundle id (bundle ids are immutable on a server).
 */
export function contentAddressedBundle(
  prefix: string,
  types: readonly RecordType[],
): RegistryBundle {
  const draft = buildBundle(prefix, types);
  const digest = blake3Hex(
    new TextEncoder().encode(canonicalBundleJson({ ...draft, bundle_id: "" })),
  );
  return { ...draft, bundle_id: `${prefix}.${digest.slice(0, 12)}` };
}
