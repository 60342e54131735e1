/**
 * Robustness of the four HTTP adapters against a hostile or broken model
 * server: every error class the spec names, unreadable bodies, broken and
 * endless streams, bad tool calls, silence, and retries. Each test states one
 * behaviour; all run against a real server on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { foldStream } from "./accumulate.ts";
import type { LlmError, LlmErrorCode } from "./errors.ts";
import { MAX_ERROR_BODY_BYTES } from "./http.ts";
import { HttpLlmProvider, type WireFormat } from "./http_provider.ts";
import { responseText, responseToolCalls } from "./messages.ts";
import type { RetryAttempt } from "./retry.ts";
import type { LlmStreamEvent } from "./types.ts";
import { DIALECTS } from "./testdata/dialects.ts";
import { HELLO, hostileProvider, HostileServer, KINDS, sleep } from "./testdata/hostile_server.ts";

const errorOf = (events: LlmStreamEvent[]): LlmError => {
  const last = events.at(-1);
  assert.equal(last?.type, "error", `the stream ends with an error event, not ${last?.type}`);
  return (last as { error: LlmError }).error;
};

/**
 * Waits for the server to see its client go, failing after 5 s: a client that
 * stopped releasing the connection must fail the test, not hang the run.
 */
async function released(server: { clientGone: { promise: Promise<unknown> } }): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the client never released the connection")), 5000);
  });
  try {
    await Promise.race([server.clientGone.promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function rejection(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    return error as LlmError;
  }
  throw new Error("expected the call to fail");
}

const sseHeaders = { "content-type": "text/event-stream" };

// ---- HTTP errors -----------------------------------------------------------

/** The spec's status table: status → code and whether a retry may help. */
const STATUS_TABLE: readonly [number, LlmErrorCode, boolean][] = [
  [400, "invalid_request", false],
  [401, "auth", false],
  [403, "access_denied", false],
  [404, "not_found", false],
  [408, "timeout", true],
  [413, "context_length", false],
  [422, "invalid_request", false],
  [429, "rate_limit", true],
  [500, "server", true],
  [502, "server", true],
  [503, "overloaded", true],
  [529, "overloaded", true],
];

for (const kind of KINDS) {
  Deno.test(`hostile ${kind}: every HTTP error status maps to its typed error, keeping the provider's message`, async () => {
    for (const [status, code, retryable] of STATUS_TABLE) {
      await using server = HostileServer.start(() =>
        Response.json({ error: { message: `the provider says ${status}` } }, { status })
      );
      const error = await rejection(hostileProvider(kind, server).complete(HELLO));
      assert.equal(error.code, code, `${status}`);
      assert.equal(error.retryable, retryable, `${status} retryable`);
      assert.equal(error.status, status);
      assert.equal(error.provider, kind);
      assert.match(error.message, new RegExp(`the provider says ${status}`));
      // The same through stream(): an error event, not a throw.
      const streamed = errorOf(await Array.fromAsync(hostileProvider(kind, server).stream(HELLO)));
      assert.equal(streamed.code, code, `${status} streamed`);
      assert.equal(server.requests, 2, "no retry with maxRetries 0");
    }
  });

  Deno.test(`hostile ${kind}: an HTML or empty error body still gives the typed error, with the page's text as message`, async () => {
    const page = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>";
    await using server = HostileServer.start((_, n) =>
      n === 0
        ? new Response(page, { status: 502, headers: { "content-type": "text/html" } })
        : new Response(null, { status: 401 })
    );
    const html = await rejection(hostileProvider(kind, server).complete(HELLO));
    assert.equal(html.code, "server");
    assert.match(html.message, /502 Bad Gateway/);
    assert.equal(html.raw, page);
    const empty = await rejection(hostileProvider(kind, server).complete(HELLO));
    assert.equal(empty.code, "auth");
    assert.match(empty.message, /HTTP 401/);
  });
}

Deno.test("hostile: Retry-After in seconds and as an HTTP date both reach retryAfterSeconds on a 429", async () => {
  const date = new Date(Date.now() + 30_000).toUTCString();
  await using server = HostileServer.start((_, n) =>
    Response.json({ error: { message: "slow down" } }, {
      status: 429,
      headers: { "retry-after": n === 0 ? "7" : date },
    })
  );
  const seconds = await rejection(hostileProvider("anthropic", server).complete(HELLO));
  assert.equal(seconds.code, "rate_limit");
  assert.equal(seconds.retryAfterSeconds, 7);
  const dated = await rejection(hostileProvider("openai", server).complete(HELLO));
  assert.equal(dated.code, "rate_limit");
  assert.ok(
    dated.retryAfterSeconds! > 25 && dated.retryAfterSeconds! <= 30,
    `${dated.retryAfterSeconds}`,
  );
  // Without the header the error says nothing about when to come back.
  await using bare = HostileServer.start(() => Response.json({}, { status: 429 }));
  const none = await rejection(hostileProvider("gemini", bare).complete(HELLO));
  assert.equal(none.code, "rate_limit");
  assert.equal(none.retryAfterSeconds, undefined);
});

Deno.test("hostile: an error page that never ends is read only up to its first 64 KiB", async () => {
  await using server = HostileServer.start(() =>
    server.stream(async (enqueue, gone) => {
      enqueue("<html>upstream failure ");
      // Ends after 8 MiB (never reached with the limit), so without it the test fails, not hangs.
      for (let sent = 0; !gone() && sent < 8 << 20; sent += 16 * 1024) {
        enqueue("x".repeat(16 * 1024));
        await sleep(0);
      }
    }, { status: 500, headers: { "content-type": "text/html" } })
  );
  const error = await rejection(hostileProvider("openai-compatible", server).complete(HELLO));
  assert.equal(error.code, "server");
  assert.match(error.message, /upstream failure/);
  assert.ok((error.raw as string).length <= MAX_ERROR_BODY_BYTES);
  await released(server);
});

// ---- unreadable 200 bodies -------------------------------------------------

for (const kind of KINDS) {
  Deno.test(`hostile ${kind}: a 200 whose body is not JSON, or is HTML, is an invalid_response error`, async () => {
    await using server = HostileServer.start((_, n) =>
      n === 0
        ? new Response('{"truncated": ', { headers: { "content-type": "application/json" } })
        : new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } })
    );
    const notJson = await rejection(hostileProvider(kind, server).complete(HELLO));
    assert.equal(notJson.code, "invalid_response");
    assert.match(notJson.message, /not JSON/);
    const html = await rejection(hostileProvider(kind, server).complete(HELLO));
    assert.equal(html.code, "invalid_response");
    assert.equal(html.retryable, false);
  });

  Deno.test(`hostile ${kind}: a 200 of the wrong shape is an invalid_response naming the field, never a TypeError`, async () => {
    const { body, field } = DIALECTS[kind].wrongShape;
    for (const wrong of [body, "null", "42", '"text"', "{}"]) {
      await using server = HostileServer.start(() =>
        new Response(wrong, { headers: { "content-type": "application/json" } })
      );
      const error = await rejection(hostileProvider(kind, server).complete(HELLO));
      assert.equal(error.code, "invalid_response", wrong);
      assert.equal(error.name, "InvalidResponseError");
      if (wrong === body) assert.match(error.message, new RegExp(field), wrong);
    }
  });
}

// ---- broken streams --------------------------------------------------------

for (const kind of KINDS) {
  const dialect = DIALECTS[kind];

  Deno.test(`hostile ${kind}: a stream cut mid-event, or without its final event, is a network error, not a short answer`, async () => {
    const events = dialect.textEvents("Hello there");
    // Chat Completions ends with a finish_reason chunk and then [DONE]; the
    // finish_reason alone is accepted as the end (servers differ on [DONE]).
    const final = events.length + (kind === "openai-compatible" ? -2 : -1);
    const ending = events[final];
    const cutMidEvent = events.slice(0, final).join("") + ending.slice(0, ending.length >> 1);
    const withoutLast = events.slice(0, final).join("");
    for (const body of [cutMidEvent, withoutLast]) {
      await using server = HostileServer.start(() => new Response(body, { headers: sseHeaders }));
      const error = errorOf(await Array.fromAsync(hostileProvider(kind, server).stream(HELLO)));
      // Gemini has no end marker: without the chunk that carries the finish
      // reason its answer is incomplete all the same.
      assert.equal(error.code, "network", body.slice(-60));
      assert.match(error.message, /ended before the response was complete/);
    }
  });

  Deno.test(`hostile ${kind}: an error event mid-stream ends the stream with the typed error and the provider's message`, async () => {
    const { events, code, message } = dialect.errorMidStream;
    await using server = HostileServer.start(() =>
      new Response(events.join(""), { headers: sseHeaders })
    );
    const error = errorOf(await Array.fromAsync(hostileProvider(kind, server).stream(HELLO)));
    assert.equal(error.code, code);
    assert.ok(error.message.includes(message), error.message);
    const thrown = await rejection(foldStream(hostileProvider(kind, server).stream(HELLO)));
    assert.equal(thrown.code, code);
  });

  Deno.test(`hostile ${kind}: keep-alive comments, CRLF line ends and one-byte chunks give the same answer`, async () => {
    const events = dialect.toolCallEvents([
      { id: "call_a", name: "shell", args: '{"command":"ls -l ü"}' },
    ]);
    const plain = events.join("");
    const noisy = ": keep-alive\r\n\r\n" +
      events.map((e) => e.replaceAll("\n", "\r\n")).join(":ping\r\n\r\n");
    const bytes = new TextEncoder().encode(noisy);
    await using server = HostileServer.start((_, n) =>
      n === 0 ? new Response(plain, { headers: sseHeaders }) : server.stream(async (enqueue) => {
        // Every byte boundary is a chunk boundary, inside `data:`, inside
        // CRLF and inside the two-byte "ü".
        for (let i = 0; i < bytes.length; i++) {
          enqueue(bytes.subarray(i, i + 1));
          if (i % 64 === 0) await sleep(0);
        }
      })
    );
    const expected = await foldStream(hostileProvider(kind, server).stream(HELLO));
    const split = await foldStream(hostileProvider(kind, server).stream(HELLO));
    assert.deepEqual(split.message, expected.message);
    assert.deepEqual(responseToolCalls(split)[0].arguments, { command: "ls -l ü" });
  });

  Deno.test(`hostile ${kind}: invalid UTF-8 in a text delta becomes U+FFFD, not a failure`, async () => {
    const enc = new TextEncoder();
    // A lone continuation byte and a truncated two-byte sequence, wherever the text goes.
    const body = new Uint8Array(
      dialect.textEvents("AB@CD").join("").split("@").map((piece) => [...enc.encode(piece)])
        .reduce((all, piece) => [...all, 0xff, 0xc3, ...piece]),
    );
    await using server = HostileServer.start(() => new Response(body, { headers: sseHeaders }));
    const response = await foldStream(hostileProvider(kind, server).stream(HELLO));
    assert.match(responseText(response), /^AB\uFFFD+CD$/);
  });

  Deno.test(`hostile ${kind}: one event beyond maxEventBytes ends the stream with invalid_response`, async () => {
    await using server = HostileServer.start(() =>
      server.stream(async (enqueue, gone) => {
        enqueue(dialect.textEvents("x")[0]);
        enqueue('data: {"text":"');
        // An event that never ends: without a limit it would fill memory. It stops after
        // 8 MiB (never reached with the limit), so without it the test fails, not hangs.
        for (let sent = 0; !gone() && sent < 8 << 20; sent += 8192) {
          enqueue("y".repeat(8192));
          await sleep(0);
        }
      })
    );
    const provider = hostileProvider(kind, server, { maxEventBytes: 256 * 1024 });
    const error = errorOf(await Array.fromAsync(provider.stream(HELLO)));
    assert.equal(error.code, "invalid_response");
    assert.match(error.message, /larger than 262144 bytes/);
    await released(server);
  });

  Deno.test(`hostile ${kind}: tool calls with broken or non-object arguments and a repeated id stay separate, each flagged`, async () => {
    const calls = kind === "gemini"
      // Gemini sends arguments as JSON values, so "broken" is a string or a list.
      ? [
        { id: "dup", name: "shell", args: '"{\\"command\\": \\"ls\\""' },
        { id: "dup", name: "shell", args: '["rm", "-rf"]' },
        { id: "ok", name: "no_such_tool", args: '{"a":1}' },
      ]
      : [
        { id: "dup", name: "shell", args: '{"command": "ls"' },
        { id: "dup", name: "shell", args: '"rm -rf /"' },
        { id: "ok", name: "no_such_tool", args: '{"a":1}' },
      ];
    await using server = HostileServer.start(() =>
      new Response(dialect.toolCallEvents(calls).join(""), { headers: sseHeaders })
    );
    const events = await Array.fromAsync(hostileProvider(kind, server).stream(HELLO));
    const finish = events.at(-1)!;
    assert.equal(finish.type, "finish");
    const toolCalls = responseToolCalls(finish.response);
    assert.deepEqual(toolCalls.map((c) => c.callId), ["dup", "dup_2", "ok"]);
    assert.deepEqual(
      events.flatMap((e) => e.type === "tool_call_end" ? [e.toolCall.callId] : []),
      ["dup", "dup_2", "ok"],
      "the stream's events name the same ids as the response",
    );
    assert.ok(toolCalls[0].argumentsError, "broken JSON is flagged");
    assert.ok(toolCalls[1].argumentsError, "a non-object is flagged");
    assert.deepEqual(toolCalls[0].arguments, {});
    assert.equal(toolCalls[2].argumentsError, undefined);
    assert.deepEqual(toolCalls[2].arguments, { a: 1 });
    assert.equal(toolCalls[2].name, "no_such_tool", "an unknown name is passed on for the loop");
  });

  Deno.test(`hostile ${kind}: a server that never answers is ended by timeoutMs (saying so) or by the caller's abort`, async () => {
    await using server = HostileServer.start(() => server.never());
    const started = Date.now();
    const timedOut = await rejection(
      hostileProvider(kind, server, { timeoutMs: 100 }).complete(HELLO),
    );
    assert.equal(timedOut.code, "timeout");
    assert.match(timedOut.message, /took longer than 100 ms/);
    const streamed = errorOf(
      await Array.fromAsync(hostileProvider(kind, server, { timeoutMs: 100 }).stream(HELLO)),
    );
    assert.equal(streamed.code, "timeout");
    const aborted = errorOf(
      await Array.fromAsync(hostileProvider(kind, server).stream(HELLO, AbortSignal.timeout(100))),
    );
    assert.equal(aborted.code, "aborted");
    assert.match(aborted.message, /aborted by the caller/);
    assert.ok(Date.now() - started < 3000, "each ended within its limit");
  });

  Deno.test(`hostile ${kind}: an endless stream is ended by the caller's abort, and the connection is released`, async () => {
    const [first] = dialect.textEvents("tick");
    await using server = HostileServer.start(() =>
      server.stream(async (enqueue, gone) => {
        enqueue(first);
        while (!gone()) {
          enqueue(": keep-alive\n\n");
          await sleep(1);
        }
      })
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const events = await Array.fromAsync(
      hostileProvider(kind, server).stream(HELLO, controller.signal),
    );
    assert.equal(errorOf(events).code, "aborted");
    await released(server);
  });
}

Deno.test("hostile: a huge single event of tens of MB under the limit is read, and one over the default 32 MiB is refused", async () => {
  const big = "z".repeat(20 * 1024 * 1024);
  await using server = HostileServer.start((_, n) =>
    n === 0
      ? new Response(DIALECTS["openai-compatible"].textEvents(big).join(""), {
        headers: sseHeaders,
      })
      : server.stream(async (enqueue, gone) => {
        enqueue('data: {"choices":[{"index":0,"delta":{"content":"');
        for (let sent = 0; sent < 40 * 1024 * 1024 && !gone(); sent += 1024 * 1024) {
          enqueue("q".repeat(1024 * 1024));
          await sleep(0);
        }
      })
  );
  const response = await foldStream(hostileProvider("openai-compatible", server).stream(HELLO));
  assert.equal(responseText(response).length, big.length);
  const error = errorOf(
    await Array.fromAsync(hostileProvider("openai-compatible", server).stream(HELLO)),
  );
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /maxEventBytes/);
});

Deno.test("hostile: a non-streamed body over maxEventBytes is refused without reading it all", async () => {
  await using server = HostileServer.start(() =>
    server.stream(async (enqueue, gone) => {
      enqueue('{"choices":[{"message":{"content":"');
      while (!gone()) {
        enqueue("w".repeat(64 * 1024));
        await sleep(0);
      }
    }, { headers: { "content-type": "application/json" } })
  );
  const error = await rejection(
    hostileProvider("openai-compatible", server, { maxEventBytes: 1024 * 1024 }).complete(HELLO),
  );
  assert.equal(error.code, "invalid_response");
  assert.match(error.message, /larger than 1048576 bytes/);
  await released(server);
});

Deno.test("hostile: events out of order (a delta for a block never started, a stop before a start) do not break the answer", async () => {
  const start = DIALECTS.anthropic.textEvents("ok");
  const stray = [
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":9}\n\n',
  ];
  const body = [start[0], ...stray, ...start.slice(1)].join("");
  await using server = HostileServer.start(() => new Response(body, { headers: sseHeaders }));
  const response = await foldStream(hostileProvider("anthropic", server).stream(HELLO));
  assert.equal(responseText(response), "ok");
  assert.equal(responseToolCalls(response).length, 0);
  // Responses: an argument delta for an output index never opened.
  const events = DIALECTS.openai.textEvents("ok");
  const orphan =
    'data: {"type":"response.function_call_arguments.delta","output_index":5,"delta":"{\\"x\\""}\n\n';
  await using server2 = HostileServer.start(() =>
    new Response([events[0], orphan, ...events.slice(1)].join(""), { headers: sseHeaders })
  );
  const second = await foldStream(hostileProvider("openai", server2).stream(HELLO));
  assert.equal(responseText(second), "ok");
  // A stop for a message that never started is no answer, not an empty one.
  await using server3 = HostileServer.start(() =>
    new Response('event: message_stop\ndata: {"type":"message_stop"}\n\n', {
      headers: sseHeaders,
    })
  );
  const stopFirst = errorOf(
    await Array.fromAsync(hostileProvider("anthropic", server3).stream(HELLO)),
  );
  assert.equal(stopFirst.code, "invalid_response");
  assert.match(stopFirst.message, /message_stop before message_start/);
});

Deno.test("hostile: non-object tool arguments in a non-streamed answer (Anthropic input, Gemini args) are flagged, not emptied", async () => {
  await using server = HostileServer.start((_, n) =>
    Response.json(
      n === 0
        ? {
          type: "message",
          id: "m",
          content: [{ type: "tool_use", id: "t1", name: "shell", input: "ls -la" }],
          stop_reason: "tool_use",
        }
        : {
          candidates: [{
            content: { role: "model", parts: [{ functionCall: { name: "shell", args: [1, 2] } }] },
            finishReason: "STOP",
          }],
        },
    )
  );
  for (const kind of ["anthropic", "gemini"] as const) {
    const [call] = responseToolCalls(await hostileProvider(kind, server).complete(HELLO));
    assert.equal(call.argumentsError, "tool arguments are not a JSON object", kind);
    assert.notEqual(call.rawArguments, "{}", kind);
  }
});

Deno.test("hostile: duplicate tool call ids in a non-streamed answer are made unique as well", async () => {
  const body = {
    id: "c1",
    model: "m",
    choices: [{
      index: 0,
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "same", type: "function", function: { name: "a", arguments: "{}" } },
          { id: "same", type: "function", function: { name: "b", arguments: "{}" } },
          { id: "", type: "function", function: { name: "c", arguments: "{}" } },
        ],
      },
    }],
  };
  await using server = HostileServer.start(() => Response.json(body));
  const response = await hostileProvider("openai-compatible", server).complete(HELLO);
  const ids = responseToolCalls(response).map((c) => c.callId);
  assert.equal(new Set(ids).size, 3, ids.join(","));
  assert.deepEqual(ids.slice(0, 2), ["same", "same_2"]);
});

// ---- retries ---------------------------------------------------------------

Deno.test("hostile: Retry-After is honoured for the wait, and one beyond maxDelayMs is surfaced, not waited for", async () => {
  await using server = HostileServer.start((_, n) =>
    n === 0
      ? Response.json({ error: { message: "busy" } }, {
        status: 429,
        headers: { "retry-after": "0.2" },
      })
      : n === 1
      ? new Response(DIALECTS.anthropic.textEvents("fine").join(""), {
        headers: { "content-type": "text/event-stream" },
      })
      : Response.json({ error: { message: "come back later" } }, {
        status: 503,
        headers: { "retry-after": "120" },
      })
  );
  const attempts: RetryAttempt[] = [];
  const provider = hostileProvider("anthropic", server, {
    retry: { maxRetries: 3, maxDelayMs: 5000, onRetry: (a) => attempts.push(a) },
  });
  const started = Date.now();
  const response = await foldStream(provider.stream(HELLO));
  assert.equal(responseText(response), "fine");
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].delayMs, 200);
  assert.ok(Date.now() - started >= 190, "the wait happened");
  const error = await rejection(provider.complete(HELLO));
  assert.equal(error.code, "overloaded");
  assert.equal(error.retryAfterSeconds, 120);
  assert.equal(server.requests, 3, "a 120 s wait beyond the 5 s cap is not attempted");
});

Deno.test("hostile: non-retryable errors are sent once; retryable ones exactly maxRetries more times", async () => {
  for (
    const [status, expected] of [
      [400, 1],
      [401, 1],
      [403, 1],
      [404, 1],
      [413, 1],
      [422, 1],
      [408, 3],
      [500, 3],
      [529, 3],
    ]
  ) {
    await using server = HostileServer.start(() =>
      Response.json({ error: { message: "no" } }, { status })
    );
    await rejection(
      hostileProvider("openai", server, { retry: { maxRetries: 2, baseDelayMs: 1 } })
        .complete(HELLO),
    );
    assert.equal(server.requests, expected, `${status}`);
  }
});

Deno.test("hostile: an abort during the backoff sleep ends the call at once with 'aborted'", async () => {
  await using server = HostileServer.start(() =>
    Response.json({ error: { message: "overloaded" } }, {
      status: 529,
      headers: { "retry-after": "30" },
    })
  );
  const provider = hostileProvider("anthropic", server, { retry: { maxRetries: 2 } });
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 100);
  const error = await rejection(provider.complete(HELLO, controller.signal));
  assert.equal(error.code, "aborted");
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assert.equal(server.requests, 1);
  const streamed = new AbortController();
  setTimeout(() => streamed.abort(), 100);
  const events = await Array.fromAsync(provider.stream(HELLO, streamed.signal));
  assert.equal(errorOf(events).code, "aborted");
  assert.equal(server.requests, 2);
});

Deno.test("hostile: a translator that chokes on an event gives invalid_response, not a retryable network error", async () => {
  await using server = HostileServer.start(() =>
    new Response('data: {"ok":1}\n\ndata: {"odd":1}\n\n', { headers: sseHeaders })
  );
  const wire: WireFormat = {
    provider: "strict",
    url: `${server.baseUrl}/x`,
    headers: () => ({}),
    body: () => ({}),
    parseResponse: () => {
      throw new TypeError("cannot read properties of undefined (reading 'parts')");
    },
    translator: () => ({
      push: (event) => {
        if (event.data.includes("odd")) {
          // What a wire reader's slip on an unexpected shape looks like.
          return (undefined as unknown as { parts: [] }).parts;
        }
        return [{ type: "stream_start" }];
      },
      end: () => [],
    }),
  };
  const provider = new HttpLlmProvider(wire, { retry: { maxRetries: 0 } });
  const error = errorOf(await Array.fromAsync(provider.stream(HELLO)));
  assert.equal(error.code, "invalid_response");
  assert.equal(error.retryable, false);
  assert.match(error.message, /unreadable stream event/);
  assert.ok(error.cause instanceof TypeError);
  await using json = HostileServer.start(() => Response.json({ any: "thing" }));
  const parsed = await rejection(
    new HttpLlmProvider({ ...wire, url: `${json.baseUrl}/x` }, { retry: { maxRetries: 0 } })
      .complete(HELLO),
  );
  assert.equal(parsed.code, "invalid_response");
  assert.match(parsed.message, /unexpected response shape: .*reading 'parts'/);
});

for (const kind of KINDS) {
  Deno.test(`hostile ${kind}: a 200 "stream" that is an HTML page or an unframed JSON error says so, and is not a network error`, async () => {
    await using server = HostileServer.start((_, n) =>
      n === 0
        ? new Response("<html><body>Proxy login required</body></html>", {
          headers: { "content-type": "text/html" },
        })
        : new Response('{"error":{"message":"invalid x-api-key","type":"authentication_error"}}', {
          headers: sseHeaders,
        })
    );
    const html = errorOf(await Array.fromAsync(hostileProvider(kind, server).stream(HELLO)));
    assert.equal(html.code, "invalid_response");
    assert.equal(html.retryable, false);
    assert.match(html.message, /not a server-sent event stream: <html><body>Proxy login required/);
    const json = errorOf(await Array.fromAsync(hostileProvider(kind, server).stream(HELLO)));
    assert.equal(json.code, "auth");
    assert.match(json.message, /invalid x-api-key/);
  });
}
