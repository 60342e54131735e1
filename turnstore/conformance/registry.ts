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
