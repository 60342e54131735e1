/**
 * The CXDB binary protocol at the wire level: frame headers, message types,
 * encoders and decoders of every request and response, and payload
 * compression. `CxdbClient` (`@forge/cxdb`) speaks it for you; this is for
 * peers, proxies and tests.
 *
 * @module
 */
export * from "./wire.ts";
export * from "./compress.ts";
