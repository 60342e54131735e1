/**
 * Registry bundles: published once, re-published identically, never changed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RegistryBundle } from "../registry/bundle.ts";
import { rejectsWith, unique } from "./helpers.ts";
import type { ConformanceTest } from "./types.ts";

/** Registers the registry bundle tests. */
export function defineRegistryTests(test: ConformanceTest): void {
  test("registry bundles publish once, re-publish identically, and never change", async ({ store }) => {
    const id = unique("test.bundle");
    const typeId = unique("test.type");
    const bundle: RegistryBundle = {
      registry_version: 1,
      bundle_id: id,
      types: {
        [typeId]: { versions: { "1": { fields: { "1": { name: "text", type: "string" } } } } },
      },
      enums: {},
    };
    assert.deepEqual(await store.publishRegistryBundle(bundle), { created: true });
    assert.deepEqual(await store.publishRegistryBundle(structuredClone(bundle)), {
      created: false,
    });
    const got = await store.getRegistryBundle(id);
    assert.deepEqual(got?.types, bundle.types);
    assert.equal(got?.bundle_id, id);
    const changed = structuredClone(bundle);
    changed.types[typeId].versions["1"].fields["2"] = { name: "extra", type: "u64" };
    await rejectsWith(store.publishRegistryBundle(changed), "Conflict", [id]);
    const retyped: RegistryBundle = {
      registry_version: 1,
      bundle_id: unique("test.bundle2"),
      types: {
        [typeId]: { versions: { "2": { fields: { "1": { name: "text", type: "u64" } } } } },
      },
    };
    await rejectsWith(store.publishRegistryBundle(retyped), "Conflict", ["tag 1"]);
    assert.equal(await store.getRegistryBundle(unique("absent")), undefined);
    await rejectsWith(
      store.publishRegistryBundle({ bundle_id: "x" } as unknown as RegistryBundle),
      "InvalidInput",
    );
    assert.deepEqual(
      (await store.getRegistryBundle(id))?.types,
      bundle.types,
      "the first bundle is intact",
    );
  });

  test("a malformed bundle is refused as InvalidInput naming its bad part, and nothing is stored", async ({ store }) => {
    const typeId = unique("test.type");
    const bundleWith = (
      field: Record<string, unknown>,
      more: Record<string, unknown> = {},
    ): RegistryBundle => ({
      registry_version: 1,
      bundle_id: unique("test.bad"),
      types: { [typeId]: { versions: { "1": { fields: { "1": field } } } } },
      ...more,
    } as unknown as RegistryBundle);
    const cyclic: Record<string, unknown> = { name: "a", type: "string" };
    const withCycle = bundleWith(cyclic, { extra: {} });
    (withCycle as unknown as { extra: Record<string, unknown> }).extra.self = withCycle;
    const cases: [string, RegistryBundle, string][] = [
      [
        "a later format",
        bundleWith({ name: "a", type: "string" }, { registry_version: 7 }),
        "registry_version",
      ],
      ["an empty field name", bundleWith({ name: "", type: "string" }), "name"],
      ["a type that is no wire type name", bundleWith({ name: "a", type: "Not A Type" }), "type"],
      [
        "optional that is no boolean",
        bundleWith({ name: "a", type: "string", optional: "yes" }),
        "optional",
      ],
      ["a ref with no type id", bundleWith({ name: "a", type: "ref" }), "ref"],
      ["an array with no items", bundleWith({ name: "a", type: "array" }), "items"],
      ["items that are a number", bundleWith({ name: "a", type: "array", items: 42 }), "items"],
      ["a doc that is no string", bundleWith({ name: "a", type: "string", doc: 10n }), "doc"],
      ["a bundle that refers to itself", withCycle, "JSON"],
    ];
    for (const [what, bundle, names] of cases) {
      await rejectsWith(store.publishRegistryBundle(bundle), "InvalidInput", [names]);
      assert.equal(await store.getRegistryBundle(bundle.bundle_id), undefined, what);
    }
    const twice: RegistryBundle = {
      registry_version: 1,
      bundle_id: unique("test.bad"),
      types: {
        [typeId]: {
          versions: {
            "1": {
              fields: { "1": { name: "a", type: "string" }, "2": { name: "a", type: "u64" } },
            },
          },
        },
      },
    };
    await rejectsWith(store.publishRegistryBundle(twice), "InvalidInput", ["name a"]);
    // What CXDB accepts beyond the types it renders (the Rust Forge's `any`) stays accepted.
    const anyField = bundleWith({ name: "raw", type: "any", semantic: "json", doc: "as sent" });
    assert.deepEqual(await store.publishRegistryBundle(anyField), { created: true });
  });

  test("a registered type version and an enum's mapping never change, whatever the bundle id", async ({ store }) => {
    const typeId = unique("test.type");
    const enumName = unique("TestEnum");
    const first: RegistryBundle = {
      registry_version: 1,
      bundle_id: unique("test.bundle"),
      types: {
        [typeId]: {
          versions: {
            "1": { fields: { "1": { name: "state", type: "u8", enum: enumName } } },
          },
        },
      },
      enums: { [enumName]: { "1": "open", "2": "closed" } },
    };
    assert.deepEqual(await store.publishRegistryBundle(first), { created: true });
    // The same version and enum again, under another bundle id: allowed.
    const again = { ...structuredClone(first), bundle_id: unique("test.bundle") };
    assert.deepEqual(await store.publishRegistryBundle(again), { created: true });
    // The version redefined (a field renamed) under a new bundle id: refused.
    const redefined = structuredClone(first);
    redefined.bundle_id = unique("test.bundle");
    redefined.types[typeId].versions["1"].fields["1"].name = "status";
    await rejectsWith(store.publishRegistryBundle(redefined), "Conflict", [typeId, "version 1"]);
    // The enum's mapping changed under a new bundle id: refused.
    const remapped = structuredClone(first);
    remapped.bundle_id = unique("test.bundle");
    remapped.enums = { [enumName]: { "1": "closed", "2": "open" } };
    await rejectsWith(store.publishRegistryBundle(remapped), "Conflict", [enumName]);
    assert.equal(await store.getRegistryBundle(redefined.bundle_id), undefined);
    assert.equal(await store.getRegistryBundle(remapped.bundle_id), undefined);
    assert.deepEqual((await store.getRegistryBundle(first.bundle_id))?.enums, first.enums);
  });
}
