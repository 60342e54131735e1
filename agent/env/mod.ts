/**
 * Execution environments for the coding agent's tools (coding-agent-loop
 * spec §4): the interface, the unconfined {@linkcode LocalExecutionEnvironment}
 * for trusted use, the workspace-confined {@linkcode ConfinedEnvironment}, a
 * read-only wrapper, the shell policy, and helpers shared by environments.
 *
 * @module
 */

export * from "./types.ts";
export { type LocalEnvironmentOptions, LocalExecutionEnvironment } from "./local.ts";
export {
  CORE_VARS,
  currentEnvVars,
  type EnvVarPolicy,
  filterEnvVars,
  SECRET_VAR_PATTERN,
} from "./env_vars.ts";
export { hasProcessGroups, MAX_CAPTURE_BYTES, type ProcessSpec, runProcess } from "./process.ts";
export {
  ConfinedEnvironment,
  type ConfinedEnvironmentOptions,
  type SandboxMode,
} from "./confined.ts";
export type { SelfCheck } from "./file_service.ts";
export {
  type Confinement,
  confinementOf,
  defaultEnvironment,
  describeConfinement,
  UNCONFINED,
} from "./confinement.ts";
export { DEFAULT_EXEC_LIMITS } from "./limits.ts";
export { hostAllowed, MAX_REDIRECTS } from "./fetch_policy.ts";
export { ReadOnlyExecutionEnvironment } from "./read_only.ts";
export {
  checkCommand,
  DEFAULT_ALLOWED_PROGRAMS,
  NEVER_ALLOWED,
  type ShellPolicy,
  ShellPolicyError,
} from "./shell_policy.ts";
