/**
 * Network access of the confined environment: http(s) to allowed hosts
 * only, redirects followed only while they stay on allowed hosts (a
 * redirect elsewhere is refused with an error naming the host), the body
 * cut at a byte limit.
 *
 * @module
 */

import type { FetchRequest, FetchResult } from "./types.ts";
import { EnvError, PermissionDeniedError } from "./types.ts";

/** Most redirects followed. */
export const MAX_REDIRECTS = 5;

/** Whether `host[:port]` of `url` is allowed by `allowed` ("host" allows any port). */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const port = url.port ||
    (url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "");
  return allowed.some((entry) => entry === url.hostname || entry === `${url.hostname}:${port}`);
}

function check(url: URL, allowed: readonly string[], what: string): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PermissionDeniedError(
      url.href,
      `${what}: only http and https are allowed, not ${url.protocol}`,
    );
  }
  if (!hostAllowed(url, allowed)) {
    throw new PermissionDeniedError(
      url.host,
      `${what}: network access to ${url.host} is not allowed (allowed: ${
        allowed.join(", ") || "none"
      })`,
    );
  }
}

/** Fetches `request.url` under the host allowlist `allowed`. */
export async function fetchAllowed(
  allowed: readonly string[],
  request: FetchRequest,
): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new EnvError("InvalidArgument", `not a URL: ${request.url}`, request.url);
  }
  check(url, allowed, "request");
  let method = request.method ?? "GET";
  let body = request.body;
  for (let hops = 0;; hops++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: request.headers,
        body,
        redirect: "manual", // each hop is checked against the allowlist
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal?.aborted) throw new EnvError("Aborted", `fetch ${url} was cancelled`);
      if (error instanceof Deno.errors.NotCapable) {
        throw new PermissionDeniedError(url.host, "network access refused by Deno's permissions");
      }
      throw new EnvError("Io", `fetch ${url} failed: ${(error as Error).message}`, url.href);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hops >= MAX_REDIRECTS) {
        throw new EnvError("Io", `fetch ${request.url}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location, url);
      check(next, allowed, `redirect from ${url.host}`);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === "POST")
      ) {
        method = "GET";
        body = undefined;
      }
      url = next;
      continue;
    }
    const max = request.maxBytes ?? 1024 * 1024;
    const bytes = await readCapped(response, max + 1);
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: new TextDecoder().decode(bytes.subarray(0, max)),
      truncated: bytes.length > max,
    };
  }
}

/** Reads at most `limit` bytes of the body, then stops reading. */
async function readCapped(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
