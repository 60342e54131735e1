/**
 * web_fetch: fetches a URL through the environment (a confined environment
 * reaches only the hosts it allows). Optional; not part of the core set.
 *
 * @module
 */

import { z } from "zod";
import type { RegisteredTool } from "./types.ts";
import { defineTool, fail, ok } from "./define.ts";

/** The web_fetch tool. */
export function webFetchTool(): RegisteredTool {
  return defineTool({
    name: "web_fetch",
    description: "Fetch a URL with HTTP GET and return the status and the body as text. " +
      "Only hosts allowed by the environment can be reached; redirects are reported, not followed.",
    schema: z.object({
      url: z.string().min(1).describe("The http or https URL to fetch"),
      max_bytes: z.number().int().min(1).max(10 * 1024 * 1024).optional().describe(
        "Most body bytes to return (default 1 MiB)",
      ),
    }),
    async execute(args, { env, signal }) {
      if (!env.fetchUrl) return fail("This environment offers no network access.");
      const response = await env.fetchUrl({ url: args.url, maxBytes: args.max_bytes, signal });
      const location = response.headers["location"];
      const head = `HTTP ${response.status}${location ? ` (redirect to ${location})` : ""}` +
        (response.truncated ? " [body cut at max_bytes]" : "");
      const text = `${head}\n\n${response.body}`;
      return response.status >= 400 ? fail(text) : ok(text);
    },
  });
}
