/**
 * The real CXDB server to test against, when the environment names one:
 * CXDB_TEST_ADDR=127.0.0.1:9009 and CXDB_TEST_HTTP=http://127.0.0.1:9010.
 *
 * @module
 */

/** The cxdb:// URL of the real server under test, or undefined when none is configured. */
export function realServerUrl(): string | undefined {
  const addr = Deno.env.get("CXDB_TEST_ADDR");
  if (!addr) return undefined;
  const http = Deno.env.get("CXDB_TEST_HTTP");
  return `cxdb://${addr}${http ? `?http=${encodeURIComponent(http)}` : ""}`;
}
