/**
 * The demo's codergen backend: the runner's agent backend, plus the check a
 * real pipeline would run after an implementation stage. A node with
 * `demo.expect_file` and `demo.expect_text` fails (and so is retried, or
 * routed) unless the agent left that text in that file of the workspace.
 *
 * @module
 */
import type { CodergenBackend, CodergenRequest, CodergenResult } from "@forge/attractor";

/** Wraps `inner`, checking the workspace under `workspace` after each stage. */
export class CheckedBackend implements CodergenBackend {
  /** Creates the wrapper. */
  constructor(readonly inner: CodergenBackend, readonly workspace: string) {}

  /** Runs the stage, then its check. */
  async run(request: CodergenRequest): Promise<CodergenResult> {
    const reply = await this.inner.run(request);
    const result: CodergenResult = typeof reply === "string"
      ? { text: reply }
      : "status" in reply
      ? { outcome: reply }
      : reply;
    const file = request.node.attrs["demo.expect_file"];
    const text = request.node.attrs["demo.expect_text"];
    if (!file || !text || result.outcome) return result;
    const content = await Deno.readTextFile(`${this.workspace}/${file}`).catch(() => "");
    if (content.includes(text)) {
      return { ...result, outcome: { status: "success", notes: `${file} has "${text}"` } };
    }
    return {
      ...result,
      outcome: {
        status: "fail",
        failureReason: `${file} does not contain "${text}"`,
      },
    };
  }

  /** Closes the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
