/**
 * How the confined environment reaches its file service: a Deno process
 * inside bubblewrap over stdio (the sandboxed mode), or a Deno worker with
 * workspace-only permissions (where no OS sandbox is available). Both carry
 * the same messages; the environment above them handles ids, time limits
 * and restarts.
 *
 * @module
 */

import type { FileRequest, FileResponse, FileServiceInit } from "./file_service.ts";
import { decodeLine, encodeLine } from "./file_service.ts";

/** A running file service. */
export interface FileChannel {
  /** Sends the init message or a request. */
  send(message: FileServiceInit | FileRequest): void;
  /** Stops the service; pending requests get no answer. */
  terminate(): void;
}

/** Callbacks of a channel. */
export interface ChannelHandlers {
  /** An answer arrived. */
  onMessage(response: FileResponse): void;
  /** The service died or broke the protocol. */
  onFailure(reason: string): void;
}

/** The file service in a Deno worker allowed to read and write `root` only. */
export function workerChannel(root: string, handlers: ChannelHandlers): FileChannel {
  const worker = new Worker(new URL("./confined_worker.ts", import.meta.url), {
    type: "module",
    deno: {
      permissions: {
        read: [root],
        write: [root],
        net: false,
        env: false,
        run: false,
        ffi: false,
        sys: false,
        import: false,
      },
    },
  });
  let alive = true;
  worker.onmessage = (event: MessageEvent<FileResponse>) => {
    if (alive) handlers.onMessage(event.data);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    if (!alive) return;
    alive = false;
    worker.terminate();
    handlers.onFailure(`the confined worker failed: ${event.message}`);
  };
  return {
    send: (message) => worker.postMessage(message),
    terminate: () => {
      alive = false;
      worker.terminate();
    },
  };
}

/** The file service as a process (bwrap running Deno), one JSON message per line on stdio. */
export function processChannel(
  command: { program: string; args: string[]; env: Record<string, string> },
  handlers: ChannelHandlers,
): FileChannel {
  const child = new Deno.Command(command.program, {
    args: command.args,
    env: command.env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let alive = true;
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let stderr = "";
  const fail = (reason: string) => {
    if (!alive) return;
    alive = false;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    handlers.onFailure(reason);
  };
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      if (stderr.length < 4096) stderr += decoder.decode(chunk, { stream: true });
    }
  })().catch(() => {});
  (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    // A BYOB reader over one reused buffer: the async iterator allocates a
    // fresh 64 KiB chunk per read (and its stream machinery costs a few µs
    // more per answer); an answer rarely needs more than one read.
    const reader = child.stdout.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(256 * 1024);
    for (;;) {
      const { value: chunk, done } = await reader.read(new Uint8Array(buffer));
      if (done || !chunk) break;
      buffer = chunk.buffer as ArrayBuffer;
      const text = decoder.decode(chunk, { stream: true });
      let start = pending.length;
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n", start)) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        start = 0;
        let response: FileResponse;
        try {
          response = decodeLine(line) as FileResponse;
        } catch {
          fail(`the sandboxed file server sent a malformed message: ${line.slice(0, 200)}`);
          return;
        }
        if (alive) handlers.onMessage(response);
      }
    }
  })().catch(() => {}).finally(async () => {
    const status = await child.status;
    fail(
      `the sandboxed file server exited (code ${status.code}${
        status.signal ? `, ${status.signal}` : ""
      })${stderr.trim() ? `: ${stderr.trim().slice(0, 1000)}` : ""}`,
    );
  });
  return {
    send: (message) => {
      writer.write(encoder.encode(encodeLine(message))).catch((error) =>
        fail(`cannot write to the sandboxed file server: ${(error as Error).message}`)
      );
    },
    terminate: () => {
      alive = false;
      writer.close().catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    },
  };
}
