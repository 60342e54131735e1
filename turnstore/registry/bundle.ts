/**
 * Registry bundles: the JSON documents that tell a CXDB server (and our own
 * readers) how to turn a msgpack payload keyed by numeric tags into named
 * fields. This module checks a bundle's shape and the rules that make bundles
 * composable, the same ones the CXDB server enforces.
 *
 * @module
 */
import { ConflictError, InvalidInputError } from "../core/errors.ts";
import { hasControlChars } from "../core/ids.ts";

/** One field of a type version. */
export interface BundleField {
  /** Field name shown by readers. */
  name: string;
  /** Wire type: u8, u32, u64, int32, int64, string, bool, bytes, unix_ms, array, ref, ... */
  type: string;
  /** True when the field may be absent. */
  optional?: boolean;
  /** Name of an enum in the bundle's `enums`, for integer fields with labels. */
  enum?: string;
  /** Type id of a nested record, for `ref` fields. */
  ref?: string;
  /** Item type of an `array`: a wire type name or `{type: "ref", ref}`. */
  items?: string | { type: string; ref?: string };
  /** Meaning of the value beyond its wire type (unix_ms, duration_ms, id, json, ...). */
  semantic?: string;
  /** Human description. */
  doc?: string;
}

/** One version of a type: its fields keyed by decimal tag. */
export interface BundleTypeVersion {
  /** Fields by decimal tag. */
  fields: Record<string, BundleField>;
}

/** A registry bundle, as CXDB's registry accepts it. */
export interface RegistryBundle {
  /** Format version; 1. */
  registry_version: number;
  /** Immutable id of this bundle. */
  bundle_id: string;
  /** Types by id, each with versions keyed by decimal version. */
  types: Record<string, { versions: Record<string, BundleTypeVersion> }>;
  /** Enums by name: decimal value → label. */
  enums?: Record<string, Record<string, string>>;
}

const TAG = /^[1-9][0-9]{0,9}$/;

/** How strictly {@link validateBundleShape} reads a bundle. */
export interface BundleShapeOptions {
  /**
   * True (the default) for a bundle about to be published: format version 1,
   * every field's parts well formed, no two tags of one version sharing a
   * name. False for a bundle a CXDB server already holds, which another
   * writer may have published under looser rules: only the structure a
   * reader needs is checked.
   */
  readonly strict?: boolean;
}

/** Checks a bundle's shape; throws InvalidInput naming the first bad part. */
export function validateBundleShape(
  bundle: unknown,
  options: BundleShapeOptions = {},
): RegistryBundle {
  const strict = options.strict ?? true;
  const fail = (what: string): never => {
    throw new InvalidInputError(`registry bundle: ${what}`);
  };
  if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) {
    fail("must be an object");
  }
  const b = bundle as Record<string, unknown>;
  // Version 1 is the only format there is; a later one could mean what this reader cannot check.
  if (strict ? b.registry_version !== 1 : !Number.isInteger(b.registry_version)) {
    fail(`registry_version must be 1, got ${describe(b.registry_version)}`);
  }
  if (typeof b.bundle_id !== "string" || b.bundle_id.length === 0 || b.bundle_id.length > 200) {
    fail("bundle_id must be a string of 1 to 200 characters");
  }
  const id = b.bundle_id as string;
  if (id.includes("#") || id.includes("/") || hasControlChars(id)) {
    fail(`bundle_id ${JSON.stringify(id)} must not contain '#', '/' or control characters`);
  }
  if (b.types === null || typeof b.types !== "object" || Array.isArray(b.types)) {
    fail(`types of ${id} must be an object`);
  }
  const enums = (b.enums ?? {}) as Record<string, unknown>;
  if (typeof enums !== "object" || Array.isArray(enums)) fail(`enums of ${id} must be an object`);
  for (const [name, mapping] of Object.entries(enums)) {
    if (mapping === null || typeof mapping !== "object" || Array.isArray(mapping)) {
      fail(`enum ${name} of ${id} must map values to labels`);
    }
    for (const [value, label] of Object.entries(mapping as object)) {
      if (!/^(0|[1-9][0-9]*)$/.test(value) || typeof label !== "string") {
        fail(`enum ${name} of ${id}: ${value} → ${String(label)} is not value → label`);
      }
    }
  }
  for (const [typeId, entry] of Object.entries(b.types as Record<string, unknown>)) {
    if (strict && (typeId.length === 0 || typeId.length > 200 || hasControlChars(typeId))) {
      fail(
        `type id ${JSON.stringify(typeId)} of ${id} must be 1 to 200 characters, none a control`,
      );
    }
    const versions = (entry as { versions?: unknown })?.versions;
    if (versions === null || typeof versions !== "object" || Array.isArray(versions)) {
      fail(`type ${typeId} of ${id} needs a versions object`);
    }
    for (const [version, def] of Object.entries(versions as Record<string, unknown>)) {
      if (!TAG.test(version)) fail(`type ${typeId} of ${id}: version ${version} is not 1 or more`);
      const fields = (def as { fields?: unknown })?.fields;
      if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
        fail(`type ${typeId} v${version} of ${id} needs a fields object`);
      }
      const names = new Set<string>();
      for (const [tag, field] of Object.entries(fields as Record<string, unknown>)) {
        if (!TAG.test(tag)) {
          fail(`type ${typeId} v${version}: tag ${tag} is not a positive integer`);
        }
        const at = `type ${typeId} v${version} tag ${tag}`;
        const f = field as Record<string, unknown>;
        if (typeof f?.name !== "string" || typeof f?.type !== "string") {
          fail(`${at} needs a name and a type`);
        }
        if (f.enum !== undefined && !(typeof f.enum === "string" && f.enum in enums)) {
          fail(`${at} names enum ${String(f.enum)}, which the bundle does not declare`);
        }
        if (!strict) continue;
        checkField(at, f, fail);
        // A reader projects each tag to data[name]: two tags of one name would overwrite each other.
        if (names.has(f.name as string)) fail(`${at}: name ${f.name} is used by another tag`);
        names.add(f.name as string);
      }
    }
  }
  return bundle as RegistryBundle;
}

/**
 * A wire type name: CXDB renders the types it knows (u8 … int64, string,
 * bool, bytes, unix_ms, array, ref) and shows others, such as the Rust
 * Forge's `any`, as they are, so any lowercase name is accepted.
 */
const WIRE_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/** Checks one field's parts beyond its name and type being strings. */
function checkField(at: string, f: Record<string, unknown>, fail: (what: string) => never): void {
  const name = f.name as string;
  if (name.length === 0 || name.length > 200 || hasControlChars(name)) {
    fail(`${at}: name ${JSON.stringify(name)} must be 1 to 200 characters, none a control`);
  }
  if (!WIRE_TYPE.test(f.type as string)) {
    fail(`${at}: type ${JSON.stringify(f.type)} is not a wire type name`);
  }
  if (f.optional !== undefined && typeof f.optional !== "boolean") {
    fail(`${at}: optional must be true or false, got ${describe(f.optional)}`);
  }
  for (const key of ["doc", "semantic"] as const) {
    if (f[key] !== undefined && typeof f[key] !== "string") {
      fail(`${at}: ${key} must be a string, got ${describe(f[key])}`);
    }
  }
  if (f.ref !== undefined && (typeof f.ref !== "string" || f.ref.length === 0)) {
    fail(`${at}: ref must be a type id, got ${describe(f.ref)}`);
  }
  if (f.type === "ref" && f.ref === undefined) fail(`${at}: a ref field needs the type id it refs`);
  if (f.type === "array" && f.items === undefined) fail(`${at}: an array field needs its items`);
  if (f.items !== undefined) checkItems(at, f.items, fail);
}

/** `items` is a wire type name, or `{type, ref?}` with `ref` when the type is `ref`. */
function checkItems(at: string, items: unknown, fail: (what: string) => never): void {
  if (typeof items === "string") {
    if (!WIRE_TYPE.test(items)) fail(`${at}: items ${JSON.stringify(items)} is not a wire type`);
    return;
  }
  const i = items as Record<string, unknown> | null;
  if (i === null || typeof i !== "object" || Array.isArray(i) || typeof i.type !== "string") {
    fail(`${at}: items must be a wire type name or {type, ref}, got ${describe(items)}`);
  }
  if (!WIRE_TYPE.test(i!.type as string)) fail(`${at}: items type ${i!.type} is not a wire type`);
  if (i!.ref !== undefined && (typeof i!.ref !== "string" || i!.ref.length === 0)) {
    fail(`${at}: items ref must be a type id, got ${describe(i!.ref)}`);
  }
  if (i!.type === "ref" && i!.ref === undefined) fail(`${at}: ref items need the type id they ref`);
}

/** A value named in a message: JSON where it has one, else its type. */
function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 80) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/**
 * Serializes a bundle with sorted keys, so equal bundles compare equal as
 * text. A bundle that is no JSON document (a cycle, a bigint) is InvalidInput.
 */
export function canonicalBundleJson(bundle: RegistryBundle): string {
  try {
    return JSON.stringify(sortKeys(bundle));
  } catch (error) {
    const why = error instanceof RangeError
      ? "it refers to itself or nests too deeply"
      : (error as Error).message;
    throw new InvalidInputError(
      `registry bundle ${String(bundle?.bundle_id)} is not a JSON document: ${why}`,
    );
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** Wire signature of a tag: what must stay the same across a type's versions. */
function signature(field: BundleField): string {
  return `${field.type}|${field.enum ?? ""}`;
}

/**
 * The merged view of every published bundle, used to check a new one against
 * the CXDB rules: a (type, version) is immutable, a tag keeps its wire type
 * across all versions of a type, an enum keeps its mapping.
 */
export class RegistryIndex {
  #versions = new Map<string, string>(); // "type@version" → canonical fields JSON
  #tags = new Map<string, string>(); // "type#tag" → signature
  #enums = new Map<string, string>(); // enum name → canonical mapping JSON
  #bundles = new Map<string, string>(); // bundle id → canonical JSON

  /** Canonical JSON of a published bundle, or undefined. */
  get(bundleId: string): string | undefined {
    return this.#bundles.get(bundleId);
  }

  /**
   * Checks `bundle` against everything admitted so far. Returns "identical"
   * when the same bundle is already admitted, "new" when it may be added, and
   * throws Conflict naming the broken rule otherwise. Changes nothing.
   */
  check(bundle: RegistryBundle): "identical" | "new" {
    const canonical = canonicalBundleJson(bundle);
    const existing = this.#bundles.get(bundle.bundle_id);
    if (existing !== undefined) {
      if (existing === canonical) return "identical";
      throw new ConflictError(
        `registry bundle ${bundle.bundle_id} is already published with different content; bundle ids are immutable`,
      );
    }
    const seenTags = new Map<string, string>();
    for (const [name, mapping] of Object.entries(bundle.enums ?? {})) {
      const prior = this.#enums.get(name);
      if (prior !== undefined && prior !== JSON.stringify(sortKeys(mapping))) {
        throw new ConflictError(
          `enum ${name} in bundle ${bundle.bundle_id} differs from its earlier declaration`,
        );
      }
    }
    for (const [typeId, entry] of Object.entries(bundle.types)) {
      for (const [version, def] of Object.entries(entry.versions)) {
        const prior = this.#versions.get(`${typeId}@${version}`);
        if (prior !== undefined && prior !== JSON.stringify(sortKeys(fieldsForCompare(def)))) {
          throw new ConflictError(
            `type ${typeId} version ${version} in bundle ${bundle.bundle_id} differs from the version already registered`,
          );
        }
        for (const [tag, field] of Object.entries(def.fields)) {
          const key = `${typeId}#${tag}`;
          const sig = signature(field);
          const known = this.#tags.get(key) ?? seenTags.get(key);
          if (known !== undefined && known !== sig) {
            throw new ConflictError(
              `tag ${tag} of type ${typeId} changes wire type (${known} → ${sig}) in bundle ${bundle.bundle_id}; a tag keeps its type across versions`,
            );
          }
          seenTags.set(key, sig);
        }
      }
    }
    return "new";
  }

  /** Records `bundle` as published; call after {@link check} returned "new". */
  admit(bundle: RegistryBundle): void {
    for (const [name, mapping] of Object.entries(bundle.enums ?? {})) {
      this.#enums.set(name, JSON.stringify(sortKeys(mapping)));
    }
    for (const [typeId, entry] of Object.entries(bundle.types)) {
      for (const [version, def] of Object.entries(entry.versions)) {
        this.#versions.set(`${typeId}@${version}`, JSON.stringify(sortKeys(fieldsForCompare(def))));
        for (const [tag, field] of Object.entries(def.fields)) {
          this.#tags.set(`${typeId}#${tag}`, signature(field));
        }
      }
    }
    this.#bundles.set(bundle.bundle_id, canonicalBundleJson(bundle));
  }
}

// The CXDB server compares versions by name, type, enum, ref, optional and
// items; documentation (doc, semantic) may differ without breaking identity.
function fieldsForCompare(def: BundleTypeVersion): unknown {
  const out: Record<string, unknown> = {};
  for (const [tag, f] of Object.entries(def.fields)) {
    out[tag] = {
      name: f.name,
      type: f.type,
      enum: f.enum,
      ref: f.ref,
      optional: f.optional ?? false,
      items: f.items,
    };
  }
  return out;
}
