/**
 * Parses the URL that configures a CXDB-backed store:
 * `cxdb://host:9009?http=http://host:9010&tls=1&ca=/path/ca.pem&tag=name&timeoutMs=30000&attempts=8`.
 *
 * @module
 */
import { InvalidInputError } from "@forge/turnstore";

/** What a cxdb: URL says. */
export interface CxdbStoreConfig {
  /** Binary protocol host. */
  readonly hostname: string;
  /** Binary protocol port (default 9009). */
  readonly port: number;
  /** HTTP read API base URL, when given. */
  readonly httpUrl?: string;
  /** Use TLS for the binary protocol. */
  readonly tls: boolean;
  /** Path of a PEM CA file to trust (TLS). */
  readonly caFile?: string;
  /** Client tag sent in HELLO. */
  readonly clientTag?: string;
  /** Per-request timeout in ms. */
  readonly timeoutMs?: number;
  /** Connection attempts before requests fail (backoff in between). */
  readonly attempts?: number;
}

const KNOWN = new Set(["http", "tls", "ca", "tag", "timeoutMs", "attempts"]);
/** Most connection attempts a URL may ask for. */
const MAX_ATTEMPTS = 1000;

/** Parses a `cxdb://` (or `cxdbs://`, TLS) URL; InvalidInput names what is wrong. */
export function parseCxdbUrl(url: string): CxdbStoreConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`not a valid cxdb URL: ${JSON.stringify(url)}`);
  }
  const scheme = parsed.protocol;
  if (scheme !== "cxdb:" && scheme !== "cxdbs:") {
    throw new InvalidInputError(
      `a CXDB store URL starts with cxdb:// or cxdbs://, got ${JSON.stringify(url)}`,
    );
  }
  if (!parsed.hostname) {
    throw new InvalidInputError(
      `cxdb URL ${JSON.stringify(url)} has no host; try cxdb://127.0.0.1:9009`,
    );
  }
  if (parsed.username || parsed.password) {
    // CXDB takes no credentials: dropping them silently would hide the mistake.
    throw new InvalidInputError(
      `cxdb URL ${
        JSON.stringify(url)
      } carries credentials; CXDB takes none (remove "user:password@")`,
    );
  }
  if (parsed.pathname !== "" && parsed.pathname !== "/") {
    throw new InvalidInputError(
      `cxdb URL ${
        JSON.stringify(url)
      } has a path (${parsed.pathname}); a CXDB server is named by host and port only`,
    );
  }
  for (const key of parsed.searchParams.keys()) {
    if (!KNOWN.has(key)) {
      throw new InvalidInputError(
        `cxdb URL parameter ${JSON.stringify(key)} is not known (known: ${[...KNOWN].join(", ")})`,
      );
    }
  }
  const port = parsed.port === "" ? 9009 : Number(parsed.port);
  const q = parsed.searchParams;
  const httpUrl = q.get("http") ?? undefined;
  if (httpUrl !== undefined && !/^https?:\/\/[^/]+/.test(httpUrl)) {
    throw new InvalidInputError(
      `cxdb URL parameter http must be an http(s) URL, got ${JSON.stringify(httpUrl)}`,
    );
  }
  const timeout = q.get("timeoutMs");
  if (timeout !== null && !(Number(timeout) > 0)) {
    throw new InvalidInputError(
      `cxdb URL parameter timeoutMs must be a positive number, got ${JSON.stringify(timeout)}`,
    );
  }
  const attempts = q.get("attempts");
  // Past MAX_ATTEMPTS, with backoff capped at 2 s, a call to a server that is
  // down would wait for hours (1e9 attempts: decades) instead of failing.
  if (
    attempts !== null &&
    !(Number.isInteger(Number(attempts)) && Number(attempts) > 0 &&
      Number(attempts) <= MAX_ATTEMPTS)
  ) {
    throw new InvalidInputError(
      `cxdb URL parameter attempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${
        JSON.stringify(attempts)
      }`,
    );
  }
  const tlsParam = q.get("tls");
  if (tlsParam !== null && !["1", "true", "0", "false"].includes(tlsParam)) {
    throw new InvalidInputError(
      `cxdb URL parameter tls must be 1, true, 0 or false, got ${JSON.stringify(tlsParam)}`,
    );
  }
  return {
    hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
    port,
    httpUrl: httpUrl?.replace(/\/+$/, ""),
    tls: scheme === "cxdbs:" || tlsParam === "1" || tlsParam === "true",
    caFile: q.get("ca") ?? undefined,
    clientTag: q.get("tag") ?? undefined,
    timeoutMs: timeout === null ? undefined : Number(timeout),
    attempts: attempts === null ? undefined : Number(attempts),
  };
}
