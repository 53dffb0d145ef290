/**
 * The CLI's exit codes (contract: 0 ok, 1 generation failed, 2 usage/validation, 3 auth/config, 4 timeout,
 * 5 output folder in use by another batch, 130 interrupted, 143 terminated) and the one function that maps an error
 * to its code.
 */
import {
  AbortError,
  AuthError,
  BATCH_LOCKED_CODE,
  CONFIG_ERROR_CODE,
  JimengError,
  TimeoutError,
  ValidationError,
} from "../errors.js";

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  auth: 3,
  timeout: 4,
  locked: 5,
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15), the convention for a terminated process. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export { CONFIG_ERROR_CODE };

/**
 * The CLI's configuration is missing or wrong: no credentials, an unreadable config file, a bad environment
 * value. Exit code 3. Lives in the CLI because the SDK itself never reads configuration.
 */
export class ConfigError extends JimengError {
  override name = "ConfigError";

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { code: CONFIG_ERROR_CODE, ...options });
  }
}

/**
 * The exit code for an error thrown by a command. API, network, content-policy and credit failures, and anything
 * unrecognised, are a failed run (1).
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof ValidationError) return EXIT.usage;
  if (error instanceof AuthError) return EXIT.auth;
  if (error instanceof JimengError && error.code === CONFIG_ERROR_CODE) return EXIT.auth;
  if (error instanceof TimeoutError) return EXIT.timeout;
  if (error instanceof JimengError && error.code === BATCH_LOCKED_CODE) return EXIT.locked;
  if (error instanceof AbortError) return EXIT.interrupted;
  return EXIT.failed;
}
