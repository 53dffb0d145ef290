/**
 * One error hierarchy for the whole SDK. Every failure a caller can see is one of these classes,
 * and `toJSON()` of any of them is safe to print: it never carries a credential.
 */

/** Every provider, in the order the CLI picks one automatically (see src/cli/settings.ts). */
export const PROVIDER_NAMES = ["visual", "session", "ark"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The code of BatchLockedError: the output folder is in use by another batch run. */
export const BATCH_LOCKED_CODE = "BATCH_LOCKED";
/** The code of errors that mean "configuration is missing or wrong" (credentials, endpoints): CLI exit 3. */
export const CONFIG_ERROR_CODE = "CONFIG_ERROR";
/** The codes jimeng itself gives its errors. */
export type JimengErrorCode =
  | "VALIDATION_ERROR"
  | "CONFIG_ERROR"
  | "TIMEOUT"
  | "ABORTED"
  | "NETWORK_ERROR"
  | "BATCH_LOCKED"
  | "UNCERTAIN_SUBMIT"
  | "RESPONSE_TOO_LARGE"
  | "UNEXPECTED_RESPONSE"
  | "BAD_RESPONSE"
  | "NO_OUTPUT"
  | "EMPTY_OUTPUT"
  | "OUTPUT_MISSING"
  | "LOCAL_RESULT_GONE"
  | "CANCEL_UNSUPPORTED"
  | DownloadErrorCode
  | "DOWNLOAD_TRUNCATED"
  | "FILE_WRITE_FAILED"
  | "UNSAFE_OUTPUT_URL"
  | "UNSAFE_PATH";

/** The codes of a DownloadError. */
export type DownloadErrorCode =
  | "DOWNLOAD_FAILED"
  | "DOWNLOAD_INCOMPLETE"
  | "DOWNLOAD_TOO_LARGE"
  | "INVALID_OUTPUT";

/**
 * An error's `code`: one of jimeng's own codes, or what a remote service or the system said: a number (Visual
 * API and jimeng-api codes) or a string of theirs (a gateway error name, `HTTP_503`, `ECONNRESET`). Compare
 * with the literals of `JimengErrorCode`; prefer `instanceof` on the error classes where one exists.
 */
export type ErrorCode = JimengErrorCode | number | (string & {});

export interface ErrorJSON {
  name: string;
  code: ErrorCode;
  message: string;
  hint?: string;
  provider?: ProviderName;
  httpStatus?: number;
  requestId?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  taskId?: string;
  lastStatus?: string;
  issues?: ValidationIssue[];
}

export interface JimengErrorOptions {
  code: ErrorCode;
  /** What the user can do about it; printed after the message by the CLI. */
  hint?: string;
  cause?: unknown;
}

export class JimengError extends Error {
  override name = "JimengError";
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(message: string, options: JimengErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    if (options.hint !== undefined) this.hint = options.hint;
  }

  toJSON(): ErrorJSON {
    const json: ErrorJSON = { name: this.name, code: this.code, message: this.message };
    if (this.hint !== undefined) json.hint = this.hint;
    return json;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `images.0` or `duration`; "" for the whole input. */
  path: string;
  message: string;
}

/** Bad input, found before any request was sent. */
export class ValidationError extends JimengError {
  override name = "ValidationError";
  readonly issues: ValidationIssue[];
  /** One line that introduces the issues when there are several (e.g. "jobs.jsonl: 3 problems; nothing was sent"). */
  readonly summary?: string;

  constructor(
    issues: ValidationIssue[],
    options: { hint?: string; message?: string; summary?: string } = {},
  ) {
    const message =
      options.message ??
      issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
    super(message || "invalid input", {
      code: "VALIDATION_ERROR",
      ...(options.hint ? { hint: options.hint } : {}),
    });
    this.issues = issues;
    if (options.summary !== undefined) this.summary = options.summary;
  }

  override toJSON(): ErrorJSON {
    return { ...super.toJSON(), issues: this.issues };
  }
}

export interface ApiErrorOptions {
  provider: ProviderName;
  httpStatus: number;
  code: ErrorCode;
  requestId?: string;
  retryable?: boolean;
  hint?: string;
}

/** The remote service answered, and the answer was a failure. */
export class ApiError extends JimengError {
  override name = "ApiError";
  readonly provider: ProviderName;
  readonly httpStatus: number;
  readonly requestId?: string;
  readonly retryable: boolean;

  constructor(message: string, options: ApiErrorOptions) {
    super(message, { code: options.code, ...(options.hint ? { hint: options.hint } : {}) });
    this.provider = options.provider;
    this.httpStatus = options.httpStatus;
    if (options.requestId !== undefined) this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
  }

  override toJSON(): ErrorJSON {
    const json: ErrorJSON = {
      ...super.toJSON(),
      provider: this.provider,
      httpStatus: this.httpStatus,
      retryable: this.retryable,
    };
    if (this.requestId !== undefined) json.requestId = this.requestId;
    return json;
  }
}

/** Credentials missing, wrong, expired or not allowed to call this service. */
export class AuthError extends ApiError {
  override name = "AuthError";
}

/** The provider throttled us (QPS or concurrency limit). Always safe to retry later. */
export class RateLimitError extends ApiError {
  override name = "RateLimitError";
  readonly retryAfterMs?: number;

  constructor(message: string, options: ApiErrorOptions & { retryAfterMs?: number }) {
    super(message, { ...options, retryable: true });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  override toJSON(): ErrorJSON {
    const json = super.toJSON();
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    return json;
  }
}

/** The prompt, an input image or an output was rejected by moderation. */
export class ContentPolicyError extends ApiError {
  override name = "ContentPolicyError";
}

/** The account has no credits (points) left for this job. */
export class InsufficientCreditsError extends ApiError {
  override name = "InsufficientCreditsError";
}

/** The request never got an answer: connection refused, reset, DNS failure... */
export class NetworkError extends JimengError {
  override name = "NetworkError";
  /** True when the request provably never reached the server (safe to resend even if it costs money). */
  readonly notSent: boolean;

  constructor(
    message: string,
    options: { cause?: unknown; code?: ErrorCode; notSent: boolean; hint?: string },
  ) {
    super(message, {
      code: options.code ?? "NETWORK_ERROR",
      cause: options.cause,
      ...(options.hint ? { hint: options.hint } : {}),
    });
    this.notSent = options.notSent;
  }
}

/**
 * A deadline passed. Catch this for any timeout; `RequestTimeoutError` (one request got no answer in time)
 * and `WaitTimeoutError` (waiting for a task ran out; its `taskId` resumes the wait) tell which.
 */
export class TimeoutError extends JimengError {
  override name = "TimeoutError";
  readonly taskId?: string;
  readonly lastStatus?: string;

  constructor(
    message: string,
    options: { taskId?: string; lastStatus?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, {
      code: "TIMEOUT",
      cause: options.cause,
      ...(options.hint ? { hint: options.hint } : {}),
    });
    if (options.taskId !== undefined) this.taskId = options.taskId;
    if (options.lastStatus !== undefined) this.lastStatus = options.lastStatus;
  }

  override toJSON(): ErrorJSON {
    const json = super.toJSON();
    if (this.taskId !== undefined) json.taskId = this.taskId;
    if (this.lastStatus !== undefined) json.lastStatus = this.lastStatus;
    return json;
  }
}

/** One HTTP request (with its retries) got no answer within its deadline. Says nothing about any task. */
export class RequestTimeoutError extends TimeoutError {
  override name = "RequestTimeoutError";

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** Waiting for a submitted task (its polls or its downloads) ran out of time; the task may still finish. */
export class WaitTimeoutError extends TimeoutError {
  override name = "WaitTimeoutError";
  declare readonly taskId: string;

  constructor(
    message: string,
    options: { taskId: string; lastStatus?: string; hint?: string; cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Saving an output failed: the server refused it, or what came was not a complete image or video. */
export class DownloadError extends JimengError {
  override name = "DownloadError";
  declare readonly code: DownloadErrorCode;
  /** The download's HTTP status, when the server refused it. */
  readonly httpStatus?: number;
  /** True when downloading again later may succeed (the server refused it for now, e.g. HTTP 503). */
  readonly retryable: boolean;

  constructor(
    message: string,
    options: {
      code: DownloadErrorCode;
      httpStatus?: number;
      retryable?: boolean;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(message, options);
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? false;
  }

  override toJSON(): ErrorJSON {
    const json: ErrorJSON = { ...super.toJSON(), retryable: this.retryable };
    if (this.httpStatus !== undefined) json.httpStatus = this.httpStatus;
    return json;
  }
}

/** The caller's AbortSignal fired. An aborted operation never resolves with partial output. */
export class AbortError extends JimengError {
  override name = "AbortError";
  readonly taskId?: string;

  constructor(message = "the operation was aborted", options: { taskId?: string; cause?: unknown } = {}) {
    super(message, { code: "ABORTED", cause: options.cause });
    if (options.taskId !== undefined) this.taskId = options.taskId;
  }

  override toJSON(): ErrorJSON {
    const json = super.toJSON();
    if (this.taskId !== undefined) json.taskId = this.taskId;
    return json;
  }
}

export function isJimengError(value: unknown): value is JimengError {
  return value instanceof JimengError;
}
