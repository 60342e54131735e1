import { defineConformanceSuite } from "../conformance/suite.ts";
import { MemoryStore } from "./store.ts";

defineConformanceSuite("memory", async () => ({ store: new MemoryStore() }));
