/**
 * A record type's version, once released, never changes: CXDB refuses a
 * bundle that redefines a (type id, version) it holds, so a store that has
 * this project's earlier bundles would refuse every later write. Each bundle
 * released since 2026-12-02 (482b4f6) is in `testdata/released_bundles.json`;
 * today's bundles must publish beside all of them, and must be recorded there
 * themselves (`scripts/release_bundles.ts`).
 */
import assert from "node:assert/strict";
import { openMemoryStore } from "@forge/turnstore";
import type { RegistryBundle } from "@forge/turnstore/records";
import { agentBundle } from "@forge/agent/records";
import { attractorBundle } from "@forge/attractor/records";

const released: RegistryBundle[] = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/released_bundles.json", import.meta.url)),
);

Deno.test("today's bundles publish into a store that holds every released bundle", async () => {
  await using store = await openMemoryStore();
  for (const bundle of released) await store.publishRegistryBundle(bundle);
  for (const bundle of [agentBundle, attractorBundle]) {
    // A Conflict here names the type and version that changed: give it a new version instead.
    await store.publishRegistryBundle(bundle);
  }
});

Deno.test("today's bundles are recorded as released (scripts/release_bundles.ts)", () => {
  const ids = new Set(released.map((b) => b.bundle_id));
  for (const bundle of [agentBundle, attractorBundle]) {
    assert.ok(
      ids.has(bundle.bundle_id),
      `${bundle.bundle_id} is not in tests/testdata/released_bundles.json: run ` +
        "deno run --allow-read --allow-write=tests/testdata scripts/release_bundles.ts",
    );
  }
});
