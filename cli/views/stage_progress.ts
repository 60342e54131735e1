/**
 * What "stages" means in every view of a run (`forge runs`, `forge inspect`):
 * a stage is a node of the pipeline other than its start and exit nodes, and
 * a run has done a stage once the node has completed at least once. Retries,
 * repeated visits and parallel branches do not change the count: they are
 * attempts of a stage, which `forge inspect` lists one by one. A
 * `loop_restart` starts the run over in a new attempt, and the count with it:
 * stages done are those of the run's current attempt. (The
 * checkpoint's `stage_index` counts stage executions on the run's own
 * context, start included and branches not, so it is no count of stages.)
 *
 * @module
 */
import type { ForgeStore } from "@forge/turnstore";
import { parseDot } from "@forge/attractor";
import { exitNodes, startNodes } from "@forge/attractor/graph";

/** What the stage count needs of a pipeline: how many stages it has, and its start and exit nodes. */
export interface GraphShape {
  /** Its stages (nodes but the start and exit); unknown when its source cannot be read. */
  readonly total?: number;
  /** Its start and exit nodes, which are not stages. */
  readonly ends: ReadonlySet<string>;
}

/** A run's stages: how many it has done, of how many its pipeline has. */
export interface StageProgress {
  /** Distinct stages completed. */
  readonly done: number;
  /** Stages of the pipeline, when known. */
  readonly total?: number;
}

/** The shape of the pipeline whose DOT source the store holds under `dotSourceHash`. */
export async function graphShape(store: ForgeStore, dotSourceHash: string): Promise<GraphShape> {
  try {
    const graph = parseDot(new TextDecoder().decode(await store.getBlob(dotSourceHash)));
    const ends = new Set([...startNodes(graph), ...exitNodes(graph)].map((n) => n.id));
    return { total: graph.nodes.filter((n) => !ends.has(n.id)).length, ends };
  } catch {
    // The source is gone or no longer parses: the run still shows, without a total.
    return { ends: new Set(["start", "exit"]) };
  }
}

/** The stages done of `completedNodes` (a checkpoint's, branch nodes included). */
export function stageProgress(
  shape: GraphShape,
  completedNodes: readonly string[],
): StageProgress {
  const done = new Set(completedNodes.filter((n) => !shape.ends.has(n))).size;
  return { done, total: shape.total };
}

/** `8 of 8 stages done` (`8 stages done` without a total). */
export function formatStageProgress(progress: StageProgress): string {
  const stages = (n: number) => `${n === 1 ? "stage" : "stages"}`;
  return progress.total === undefined
    ? `${progress.done} ${stages(progress.done)} done`
    : `${progress.done} of ${progress.total} ${stages(progress.total)} done`;
}
