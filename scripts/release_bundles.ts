/**
 * Adds this tree's registry bundles to `tests/testdata/released_bundles.json`,
 * the record of every bundle this project has published, when their ids are
 * not in it yet: `deno run --allow-read --allow-write=tests/testdata scripts/release_bundles.ts`
 * (then `deno fmt` the file).
 * Run it when a record type gains a version; `tests/released_bundles_test.ts`
 * then holds every later tree to it (a released type version never changes).
 *
 * @module
 */
import type { RegistryBundle } from "../turnstore/records/mod.ts";
import { agentBundle } from "../agent/records.ts";
import { attractorBundle } from "../attractor/records.ts";

const file = new URL("../tests/testdata/released_bundles.json", import.meta.url);
const released: RegistryBundle[] = JSON.parse(await Deno.readTextFile(file));
const known = new Set(released.map((b) => b.bundle_id));
const added = [agentBundle, attractorBundle].filter((b) => !known.has(b.bundle_id));
if (added.length === 0) {
  console.log("every bundle of this tree is recorded already");
} else {
  released.push(...added);
  await Deno.writeTextFile(file, JSON.stringify(released, null, 2) + "\n");
  console.log(`recorded ${added.map((b) => b.bundle_id).join(", ")}`);
}
