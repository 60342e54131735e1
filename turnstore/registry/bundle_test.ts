import assert from "node:assert/strict";
import { isTurnStoreError } from "../core/errors.ts";
import { canonicalBundleJson, type RegistryBundle, validateBundleShape } from "./bundle.ts";

/** A bundle another writer published under looser rules: a later format, a name used twice. */
const looser = {
  registry_version: 2,
  bundle_id: "other.writer",
  types: {
    "other.type": {
      versions: {
        "1": { fields: { "1": { name: "a", type: "string" }, "2": { name: "a", type: "u64" } } },
      },
    },
  },
};

Deno.test("a bundle to publish is read strictly, one a server already holds only for its structure", () => {
  assert.throws(
    () => validateBundleShape(looser),
    (e) => isTurnStoreError(e, "InvalidInput") && /registry_version/.test(e.message),
  );
  assert.equal(validateBundleShape(looser, { strict: false }).bundle_id, "other.writer");
  // Structure a reader needs stays required either way.
  assert.throws(
    () => validateBundleShape({ ...looser, types: [] }, { strict: false }),
    (e) => isTurnStoreError(e, "InvalidInput") && /types/.test(e.message),
  );
});

Deno.test("a bundle that is no JSON document is InvalidInput, not a stack overflow", () => {
  const bundle = { registry_version: 1, bundle_id: "cyclic", types: {} } as
    & RegistryBundle
    & { self?: unknown };
  bundle.self = bundle;
  assert.throws(
    () => canonicalBundleJson(bundle),
    (e) => isTurnStoreError(e, "InvalidInput") && /cyclic.*refers to itself/.test(e.message),
  );
});
