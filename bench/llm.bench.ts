/**
 * Model layer: what our SSE parsing and stream translation cost on top of
 * moving the bytes. Both limits are measured in the same run over the same
 * bytes: decoding + splitting lines in memory, and a raw fetch reading the
 * same stream from the same loopback server.
 */
import { createAnthropicProvider, parseSseBatches } from "../agent/llm/mod.ts";
import type { Reporter } from "./harness.ts";

const encoder = new TextEncoder();

/** An Anthropic-style stream with `deltas` text deltas and one streamed tool call. */
function anthropicStream(deltas: number): Uint8Array {
  const lines: string[] = [];
  const event = (name: string, data: unknown) =>
    lines.push(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  event("message_start", {
    type: "message_start",
    message: {
      id: "msg_b",
      model: "bench",
      content: [],
      usage: { input_tokens: 10, output_tokens: 1 },
    },
  });
  event("content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  });
  for (let i = 0; i < deltas; i++) {
    event("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: `token ${i} of a fairly ordinary answer, ` },
    });
  }
  event("content_block_stop", { type: "content_block_stop", index: 0 });
  event("content_block_start", {
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_b", name: "shell", input: {} },
  });
  for (let i = 0; i < 50; i++) {
    event("content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: i === 0 ? '{"command":"' : "echo x; " },
    });
  }
  event("content_block_delta", {
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: '"}' },
  });
  event("content_block_stop", { type: "content_block_stop", index: 1 });
  event("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "tool_use" },
    usage: { output_tokens: deltas },
  });
  event("message_stop", { type: "message_stop" });
  return encoder.encode(lines.join(""));
}

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

async function best(runs: number, fn: () => Promise<void>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

/** Runs the model-layer benchmarks. */
export async function run(reporter: Reporter): Promise<void> {
  const bytes = anthropicStream(20_000);
  const megabytes = bytes.length / 1e6;
  const chunks = chunked(bytes, 1024);

  // Limit 1: read the same byte stream, decode and split into lines: the least
  // any SSE parser must do.
  const splitMs = await best(8, async () => {
    const decoder = new TextDecoder();
    let carry = "";
    let lines = 0;
    for await (const chunk of ReadableStream.from(chunks)) {
      const parts = (carry + decoder.decode(chunk, { stream: true })).split("\n");
      carry = parts.pop()!;
      lines += parts.length;
    }
    if (lines === 0) throw new Error("no lines");
  });
  const parseMs = await best(8, async () => {
    let events = 0;
    for await (const batch of parseSseBatches(ReadableStream.from(chunks))) events += batch.length;
    if (events === 0) throw new Error("no events");
  });
  reporter.report(
    "llm SSE parse (parseSseBatches, 1 KB chunks) vs decode+split",
    megabytes / (parseMs / 1000),
    megabytes / (splitMs / 1000),
    "MB/s",
    ">= 0.6",
    "the parser also handles CR/CRLF, fields, comments and builds event objects",
  );

  // Limit 2: the least any client must do with the same stream from the same
  // loopback server: fetch it, split lines, JSON.parse each data line.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    return new Response(ReadableStream.from(chunked(bytes, 16 * 1024)), {
      headers: { "content-type": "text/event-stream" },
    });
  });
  const base = `http://127.0.0.1:${server.addr.port}/v1`;
  try {
    const rawMs = await best(8, async () => {
      const response = await fetch(`${base}/messages`, { method: "POST", body: "{}" });
      const decoder = new TextDecoder();
      let carry = "";
      let parsed = 0;
      for await (const chunk of response.body!) {
        const parts = (carry + decoder.decode(chunk, { stream: true })).split("\n");
        carry = parts.pop()!;
        for (const line of parts) {
          if (line.startsWith("data: ")) parsed += JSON.parse(line.slice(6)) ? 1 : 0;
        }
      }
      if (parsed === 0) throw new Error("nothing parsed");
    });
    const provider = createAnthropicProvider({ apiKey: "bench", baseUrl: base });
    const providerMs = await best(8, async () => {
      let finished = false;
      for await (const event of provider.stream({ model: "bench", messages: [] })) {
        if (event.type === "error") throw event.error;
        if (event.type === "finish") finished = true;
      }
      if (!finished) throw new Error("stream did not finish");
    });
    reporter.report(
      "llm anthropic stream (20k deltas) vs fetch+split+JSON.parse of the same bytes",
      megabytes / (providerMs / 1000),
      megabytes / (rawMs / 1000),
      "MB/s",
      ">= 0.5",
      "adds full SSE rules, translation to unified events, accumulation, one yield per event",
    );
  } finally {
    await server.shutdown();
  }
}
