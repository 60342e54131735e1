import { defineConformanceSuite } from "../conformance/suite.ts";
import { openFsStore } from "./mod.ts";
import { DURABILITY_MODES } from "./options.ts";

for (const durability of DURABILITY_MODES) {
  defineConformanceSuite(`fs (${durability})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "forge-fs-" });
    const target = `${dir}?durability=${durability}`;
    return {
      store: await openFsStore(target),
      reopen: () => openFsStore(target),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  });
}
