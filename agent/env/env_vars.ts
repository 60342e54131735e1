/**
 * Which environment variables a command inherits (spec §4.2): by default
 * everything except secrets; optionally only a core set, or nothing.
 *
 * @module
 */

/** How a command's environment is built from the agent's own. */
export type EnvVarPolicy =
  /** Everything except variables that look like secrets (the default). */
  | "filtered"
  /** Everything, secrets included. */
  | "inherit_all"
  /** Only the core variables (PATH, HOME, LANG, …). */
  | "core_only"
  /** Nothing at all. */
  | "none";

/** Variables named like secrets, dropped by the "filtered" policy. */
export const SECRET_VAR_PATTERN: RegExp = /(_API_KEY|_SECRET|_TOKEN|_PASSWORD|_CREDENTIALS?)$/i;

/** Variables always kept by "filtered" and "core_only" when present. */
export const CORE_VARS: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TERM",
  "TMPDIR",
  "TZ",
  "GOPATH",
  "GOROOT",
  "CARGO_HOME",
  "RUSTUP_HOME",
  "NVM_DIR",
  "DENO_DIR",
  "PYENV_ROOT",
  "VIRTUAL_ENV",
  "JAVA_HOME",
];

/** Builds a command environment from `source` (the agent's environment) under `policy`. */
export function filterEnvVars(
  source: Readonly<Record<string, string>>,
  policy: EnvVarPolicy = "filtered",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    const core = CORE_VARS.includes(name);
    const keep = policy === "inherit_all" ||
      (policy === "filtered" && (core || !SECRET_VAR_PATTERN.test(name))) ||
      (policy === "core_only" && core);
    if (keep) out[name] = value;
  }
  return out;
}

/** The agent's own environment, or an empty one when env access is not permitted. */
export function currentEnvVars(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}
