/**
 * The confined environment's file service in a Deno worker whose only
 * permissions are read and write inside the workspace: the transport used
 * where no OS sandbox is available. Protocol: the parent posts the
 * {@linkcode FileServiceInit} message, then `{ id, op, args }` requests;
 * the worker answers each with a {@linkcode FileResponse}.
 *
 * @module
 */

import {
  type FileRequest,
  type FileResponse,
  FileService,
  type FileServiceInit,
} from "./file_service.ts";

export type { FileResponse, FileServiceInit, SelfCheck } from "./file_service.ts";

// The worker's global scope, typed here rather than through the deno.worker
// lib: JSR refuses triple-slash directives that change globals.
interface WorkerScope {
  onmessage: ((event: MessageEvent<FileServiceInit | FileRequest>) => void) | null;
  postMessage(message: unknown): void;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
}
const scope = globalThis as unknown as WorkerScope;

// A stray rejection must not kill the worker (and every pending call with it).
scope.addEventListener("unhandledrejection", (event) => event.preventDefault());

let service: FileService | undefined;

scope.onmessage = (event: MessageEvent<FileServiceInit | FileRequest>) => {
  const message = event.data;
  if (message.op === "init") {
    service = new FileService(message as FileServiceInit);
    scope.postMessage({ id: 0, ok: true, value: "ready" } satisfies FileResponse);
    return;
  }
  const request = message as FileRequest;
  if (!service) {
    scope.postMessage(
      { id: request.id, ok: false, error: { code: "Closed", message: "not initialised" } },
    );
    return;
  }
  const response = service.handle(request);
  if (response instanceof Promise) response.then((answer) => scope.postMessage(answer));
  else scope.postMessage(response);
};
