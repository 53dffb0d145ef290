/**
 * Visual API responses → typed errors: the gateway's `ResponseMetadata.Error`, the business envelope
 * `{ code, message, request_id }` and the documented business codes. The message itself says what to do (no
 * separate `hint`, so the CLI does not print the advice twice). Also a JSON parser that keeps `task_id` a string. Pure; shared by the client and the emulator.
 */
import { ApiError, AuthError, ContentPolicyError, type ErrorCode, RateLimitError } from "../../errors.js";
import { quoteUnsafeIntegers } from "../../http/json-text.js";
import { ENV_NAMES, howToSet } from "../../setting-names.js";

export const SUCCESS_CODE = 10000;

/** Volcengine gateway errors: `ResponseMetadata.Error.Code` → CodeN and HTTP status. */
export const GATEWAY_ERRORS = {
  MissingParameter: { codeN: 100002, status: 400 },
  MissingAuthenticationToken: { codeN: 100003, status: 401 },
  MissingRequestInfo: { codeN: 100004, status: 400 },
  MissingSignature: { codeN: 100005, status: 401 },
  InvalidTimestamp: { codeN: 100006, status: 400 },
  ServiceNotFound: { codeN: 100007, status: 404 },
  InvalidActionOrVersion: { codeN: 100008, status: 404 },
  InvalidAccessKey: { codeN: 100009, status: 401 },
  SignatureDoesNotMatch: { codeN: 100010, status: 401 },
  LackPolicy: { codeN: 100012, status: 403 },
  AccessDenied: { codeN: 100013, status: 403 },
} as const satisfies Record<string, { codeN: number; status: number }>;
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

const GATEWAY_AUTH = new Set<string>([
  "MissingAuthenticationToken",
  "MissingRequestInfo",
  "MissingSignature",
  "InvalidTimestamp",
  "ServiceNotFound",
  "InvalidAccessKey",
  "SignatureDoesNotMatch",
  "LackPolicy",
  "AccessDenied",
]);

const GATEWAY_HINTS: Record<string, string> = {
  InvalidTimestamp: "sync this machine's clock (the signature date is checked against server time) and retry",
  SignatureDoesNotMatch:
    "check the secret access key (use it verbatim, without quotes or spaces) and that nothing rewrites the request body or headers",
  InvalidAccessKey: `check the access key id (${ENV_NAMES.accessKeyId}, or the config key accessKeyId); it may be disabled or deleted`,
  MissingAuthenticationToken: `configure an access key pair: ${howToSet("accessKeyId", "secretAccessKey")}`,
  MissingSignature: `configure an access key pair: ${howToSet("accessKeyId", "secretAccessKey")}`,
  LackPolicy: "attach the CVFullAccess or JimengFullAccess policy to this user in the Volcengine IAM console",
  AccessDenied: "this key may not call the action: attach CVFullAccess or JimengFullAccess in IAM",
  ServiceNotFound: "the endpoint or service name is wrong; use https://visual.volcengineapi.com",
};

export type CodeKind =
  | "rate-limit"
  | "input-moderation"
  | "output-moderation"
  | "moderation-failure"
  | "internal"
  | "access"
  | "invalid";

export interface CodeInfo {
  status: number;
  message: string;
  kind: CodeKind;
}

/** The Visual API's documented business codes with their HTTP status and the server's message. */
export const VISUAL_CODES: Readonly<Record<number, CodeInfo>> = {
  50411: { status: 400, message: "Pre Img Risk Not Pass", kind: "input-moderation" },
  50511: { status: 400, message: "Post Img Risk Not Pass", kind: "output-moderation" },
  50412: { status: 400, message: "Text Risk Not Pass", kind: "input-moderation" },
  50512: { status: 400, message: "Post Text Risk Not Pass", kind: "input-moderation" },
  50413: { status: 400, message: "Post Text Risk Not Pass", kind: "input-moderation" },
  50513: { status: 400, message: "Pre Video Risk Not Pass", kind: "input-moderation" },
  50514: { status: 400, message: "Pre Audio Risk Not Pass", kind: "input-moderation" },
  50516: { status: 400, message: "Post Video Risk Not Pass", kind: "output-moderation" },
  50517: { status: 400, message: "Post Audio Risk Not Pass", kind: "output-moderation" },
  50518: { status: 400, message: "Pre Img Risk Not Pass: Copyright", kind: "input-moderation" },
  50519: { status: 400, message: "Post Img Risk Not Pass: Copyright", kind: "output-moderation" },
  50520: { status: 400, message: "Risk Internal Error", kind: "moderation-failure" },
  50521: { status: 400, message: "Antidirt Internal Error", kind: "moderation-failure" },
  50522: { status: 400, message: "Image Copyright Internal Error", kind: "moderation-failure" },
  50218: { status: 400, message: "Resource exists risk", kind: "input-moderation" },
  50429: { status: 429, message: "Request Has Reached API Limit, Please Try Later", kind: "rate-limit" },
  50430: {
    status: 429,
    message: "Request Has Reached API Concurrent Limit, Please Try Later",
    kind: "rate-limit",
  },
  50500: { status: 500, message: "Internal Error", kind: "internal" },
  50501: { status: 500, message: "Internal RPC Error", kind: "internal" },
  50400: { status: 400, message: "Access Denied: Access Denied", kind: "access" },
  50215: { status: 400, message: "Input invalid for this service.", kind: "invalid" },
};

/** Output-side moderation: never retried automatically, but a caller may choose to resubmit (new seed). */
export const OUTPUT_MODERATION_CODES: ReadonlySet<number> = new Set(
  Object.entries(VISUAL_CODES)
    .filter(([, info]) => info.kind === "output-moderation")
    .map(([code]) => Number(code)),
);

/** True for errors a caller may reasonably resubmit (each attempt may be billed): output moderation. */
export function isResubmittable(error: unknown): boolean {
  return error instanceof ApiError && OUTPUT_MODERATION_CODES.has(Number(error.code));
}

export type VisualOperation = "submit" | "poll" | "process";

export interface ErrorContext {
  operation: VisualOperation;
  reqKey?: string;
  taskId?: string;
}

/**
 * Parses a Visual API body so that `task_id` stays a string even when a server sends it as a bare number
 * (ids exceed 2^53). Returns undefined for a body that is not JSON.
 */
export function parseVisualJson(text: string): unknown {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  const safe = text.replace(/(?<!\\)("task_id"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, '$1"$2"');
  try {
    return JSON.parse(quoteUnsafeIntegers(safe));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The gateway error inside a body, if any (when present, the gateway refused the call and everything else is ignored). */
export function gatewayErrorOf(
  json: unknown,
): { code: string; message: string; requestId?: string; codeN?: number } | undefined {
  if (!isRecord(json) || !isRecord(json.ResponseMetadata)) return undefined;
  const meta = json.ResponseMetadata;
  if (!isRecord(meta.Error)) return undefined;
  const code = asString(meta.Error.Code) ?? "GatewayError";
  const result: { code: string; message: string; requestId?: string; codeN?: number } = {
    code,
    message: asString(meta.Error.Message) ?? code,
  };
  const requestId = asString(meta.RequestId);
  if (requestId) result.requestId = requestId;
  if (typeof meta.Error.CodeN === "number") result.codeN = meta.Error.CodeN;
  return result;
}

/** The service envelope's code, message and request id (B.2). */
export function envelopeOf(json: unknown): { code?: number; message?: string; requestId?: string } {
  if (!isRecord(json)) return {};
  const out: { code?: number; message?: string; requestId?: string } = {};
  const code = typeof json.code === "number" ? json.code : Number(json.code);
  if (Number.isFinite(code) && json.code !== undefined && json.code !== null) out.code = code;
  const message = asString(json.message);
  if (message) out.message = message;
  const requestId = asString(json.request_id);
  if (requestId) out.requestId = requestId;
  return out;
}

function codeHint(code: number, info: CodeInfo | undefined, context: ErrorContext): string | undefined {
  if (code === 50400)
    return "enable the Jimeng / intelligent vision service for this account in the Volcengine console, and attach the CVFullAccess or JimengFullAccess policy to this access key's user";
  if (code === 50215)
    return context.operation === "poll"
      ? "check that the task id is the one submit returned (as a string, never a number) and that req_key is the same as at submit; tasks expire after 12 h"
      : "check the request fields against the model's documented limits";
  switch (info?.kind) {
    case "rate-limit":
      return code === 50430
        ? "too many tasks run at once for this account: lower the concurrency and retry later"
        : "too many requests per second: slow down and retry later";
    case "input-moderation":
      return "rephrase the prompt or use another input image; retrying the same input will fail again";
    case "output-moderation":
      return "the generated output was blocked; resubmitting (perhaps with a new seed) may succeed, and each attempt may be billed";
    case "moderation-failure":
      return "the moderation service failed; try again later";
    case "internal":
      return context.operation === "submit"
        ? "the service failed; the task may or may not exist, so check before resubmitting (a resubmit may be billed)"
        : "the service failed; polling again later usually works";
    default:
      return undefined;
  }
}

/** Any Visual API failure (gateway error, business code, or a body that is not the API's) as a typed error. */
export function visualErrorFrom(
  httpStatus: number,
  json: unknown,
  context: ErrorContext,
  headerRetryAfterMs?: number,
): ApiError {
  const gateway = gatewayErrorOf(json);
  if (gateway) {
    const base = {
      provider: "visual" as const,
      httpStatus,
      code: gateway.code,
      ...(gateway.requestId ? { requestId: gateway.requestId } : {}),
    };
    const hint = GATEWAY_HINTS[gateway.code];
    const message = `Visual API gateway refused the request: ${gateway.code}: ${gateway.message}${hint ? ` — ${hint}` : ""}`;
    if (httpStatus === 429 || /limit|throttl/i.test(gateway.code))
      return new RateLimitError(message, {
        ...base,
        ...(headerRetryAfterMs !== undefined ? { retryAfterMs: headerRetryAfterMs } : {}),
      });
    if (GATEWAY_AUTH.has(gateway.code)) return new AuthError(message, base);
    return new ApiError(message, { ...base, retryable: httpStatus >= 500 });
  }

  const envelope = envelopeOf(json);
  if (envelope.code === undefined) {
    const code: ErrorCode = `HTTP_${httpStatus}`;
    const message = `Visual API answered HTTP ${httpStatus} without a JSON envelope${
      httpStatus >= 500 ? " — the service may be down; try again later" : " — check the endpoint address"
    }`;
    const base = { provider: "visual" as const, httpStatus, code };
    if (httpStatus === 429)
      return new RateLimitError(message, {
        ...base,
        ...(headerRetryAfterMs !== undefined ? { retryAfterMs: headerRetryAfterMs } : {}),
      });
    // A body that is not the API's JSON came from something in between (a proxy's error page): transient,
    // so safe calls (polls) try again; a 4xx page still means a wrong address.
    const transient = httpStatus >= 500 || (httpStatus >= 200 && httpStatus < 300);
    return new ApiError(message, { ...base, retryable: transient });
  }

  const code = envelope.code;
  const info = VISUAL_CODES[code];
  const hint = codeHint(code, info, context);
  const serverMessage = envelope.message ?? info?.message ?? "error";
  const what = context.reqKey ? ` for ${context.reqKey}` : "";
  const message = `Visual API error ${code}${what}: ${serverMessage}${hint ? ` — ${hint}` : ""}`;
  const base = {
    provider: "visual" as const,
    httpStatus,
    code,
    ...(envelope.requestId ? { requestId: envelope.requestId } : {}),
  };
  switch (info?.kind) {
    case "rate-limit":
      return new RateLimitError(message, {
        ...base,
        ...(headerRetryAfterMs !== undefined ? { retryAfterMs: headerRetryAfterMs } : {}),
      });
    case "input-moderation":
    case "output-moderation":
      return new ContentPolicyError(message, { ...base, retryable: false });
    case "access":
      return new AuthError(message, { ...base, retryable: false });
    case "internal":
      return new ApiError(message, { ...base, retryable: context.operation === "poll" });
    case "invalid":
    case "moderation-failure":
      return new ApiError(message, { ...base, retryable: false });
    default:
      return new ApiError(message, {
        ...base,
        retryable: httpStatus === 429 || (httpStatus >= 500 && context.operation === "poll"),
      });
  }
}
