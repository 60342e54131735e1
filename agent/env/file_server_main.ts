/**
 * Entry point of the sandboxed file server: a Deno process started inside
 * bubblewrap (whose filesystem view holds only the workspace and read-only
 * system directories) with Deno permissions to read and write the
 * workspace only. It reads one JSON request per line on stdin and writes
 * one answer per line on stdout; the first line is the init message.
 *
 * @module
 */

import { decodeLine, encodeLine, FileService, type FileServiceInit } from "./file_service.ts";
import type { FileRequest } from "./file_service.ts";

const encoder = new TextEncoder();
let service: FileService | undefined;

/**
 * Writes an answer synchronously: this process serves one client and has
 * nothing else to do meanwhile, and it saves an async hop per request.
 */
function send(message: unknown): void {
  const bytes = encoder.encode(encodeLine(message));
  for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/** Answers one line; a promise only when the answer needs asynchronous work (a write, a search). */
function onLine(line: string): Promise<void> | undefined {
  const message = decodeLine(line) as FileServiceInit | FileRequest;
  if (message.op === "init") {
    service = new FileService(message as FileServiceInit);
    send({ id: 0, ok: true, value: "ready" });
    return;
  }
  const request = message as FileRequest;
  if (!service) {
    send({ id: request.id, ok: false, error: { code: "Closed", message: "not initialised" } });
    return;
  }
  const response = service.handle(request);
  if (response instanceof Promise) return response.then(send);
  send(response);
}

const decoder = new TextDecoder();
let pending = "";
const buffer = new Uint8Array(256 * 1024);
// Synchronous reads of stdin, each request answered before the next read.
// `Deno.stdin.read` hands every read to a blocking thread (a dup of fd 0,
// a futex wake, an eventfd back to the event loop): two thread switches per
// request, the largest cost after the pipe itself on a loaded machine. This
// process serves one client whose requests the service runs one at a time
// anyway, so blocking its only thread while no request is pending costs
// nothing, and awaiting each answer lets its async operations (a write's
// fsync) finish before the thread blocks again.
for (;;) {
  const n = Deno.stdin.readSync(buffer);
  if (n === null) break;
  pending += decoder.decode(buffer.subarray(0, n), { stream: true });
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (!line) continue;
    try {
      const answered = onLine(line);
      if (answered) await answered;
    } catch { /* a malformed line gets no answer; the agent's time limit covers it */ }
  }
}
