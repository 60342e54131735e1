/**
 * The built-in node handlers and backends.
 *
 * @module
 */
import { HandlerRegistry } from "../engine/handler.ts";
import { ConditionalHandler, ExitHandler, StartHandler } from "./basic.ts";
import { CodergenHandler } from "./codergen.ts";
import { WaitForHumanHandler } from "./wait_human.ts";
import { FanInHandler, ParallelHandler } from "./parallel.ts";
import { ToolHandler } from "./tool.ts";
import { ManagerLoopHandler } from "./manager_loop.ts";

export * from "./backend.ts";
export * from "./basic.ts";
export * from "./codergen.ts";
export * from "./wait_human.ts";
export * from "./parallel.ts";
export * from "./tool.ts";
export * from "./manager_loop.ts";

/** A registry with every built-in handler; codergen is also the default. */
export function defaultHandlers(): HandlerRegistry {
  const codergen = new CodergenHandler();
  return new HandlerRegistry()
    .register("start", new StartHandler())
    .register("exit", new ExitHandler())
    .register("codergen", codergen)
    .register("wait.human", new WaitForHumanHandler())
    .register("conditional", new ConditionalHandler())
    .register("parallel", new ParallelHandler())
    .register("parallel.fan_in", new FanInHandler())
    .register("tool", new ToolHandler())
    .register("stack.manager_loop", new ManagerLoopHandler())
    .setDefault(codergen);
}
