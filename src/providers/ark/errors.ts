/**
 * Ark error bodies → the SDK's error tree (spec ark-api.md "Errors"). Ark answers `{"error": {code, message,
 * param?, type?}}` with a 4xx/5xx status; the request id is in the `x-request-id` header and often at the end
 * of the message. Pure; shared by the client and the emulator.
 */
import {
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  RateLimitError,
} from "../../errors.js";
import { howToSet } from "../../setting-names.js";
import { arkErrorBodySchema } from "./schemas.js";

/** The codes the Ark API documents, with their HTTP status (the emulator answers with these). */
export const ARK_ERROR_STATUS: Readonly<Record<string, number>> = {
  MissingParameter: 400,
  InvalidParameter: 400,
  "InvalidParameter.OversizedImage": 400,
  InputTextSensitiveContentDetected: 400,
  InputImageSensitiveContentDetected: 400,
  OutputImageSensitiveContentDetected: 400,
  OutputVideoSensitiveContentDetected: 400,
  "InvalidEndpoint.ClosedEndpoint": 400,
  AuthenticationError: 401,
  AccountOverdueError: 403,
  AccessDenied: 403,
  "InvalidEndpoint.NotFound": 404,
  "InvalidEndpointOrModel.NotFound": 404,
  ModelNotOpen: 404,
  ResourceNotFound: 404,
  TooManyRequests: 429,
  QuotaExceeded: 429,
  InternalServiceError: 500,
  ServiceUnavailable: 503,
};

export type ArkOperation = "submit" | "poll" | "list" | "cancel";

const REQUEST_ID_IN_MESSAGE = /Request id:\s*([0-9A-Za-z-]+)\s*$/i;

function hintFor(code: string, operation: ArkOperation): string | undefined {
  if (code === "AuthenticationError")
    return `check the Ark API key: ${howToSet("arkApiKey")}; keys are made in the Ark console (API Key 管理)`;
  if (code === "AccountOverdueError")
    return "the Ark account is overdue: top it up in the Volcengine console";
  if (code === "AccessDenied") return "this API key may not use the model or endpoint; check its permissions";
  if (code === "ModelNotOpen")
    return "activate the model for this account in the Ark console (开通管理), or pick another model";
  if (code.includes("NotFound"))
    return operation === "poll" || operation === "cancel"
      ? "the task or model is unknown to Ark: video tasks are kept 7 days; check the id"
      : "the model id or ep-… endpoint id is unknown: check it with `jimeng models` or in the Ark console";
  if (code.startsWith("Output"))
    return "the output was blocked by moderation; resubmitting may work and is billed";
  if (code.includes("Sensitive")) return "rephrase the prompt or use another input image";
  if (code === "QuotaExceeded") return "the account's quota is used up; wait for it to reset";
  if (code === "TooManyRequests") return "slow down (lower -c / --qps); retried automatically";
  if (code === "InvalidEndpoint.ClosedEndpoint")
    return "the ep-… endpoint is closed: open it in the Ark console";
  return undefined;
}

/** The request id: the header, else the tail of the message ("… Request id: 2025…"). */
export function arkRequestId(message: string, header: string | undefined): string | undefined {
  if (header) return header;
  return REQUEST_ID_IN_MESSAGE.exec(message)?.[1];
}

/** Any failed Ark answer as a typed error with the code, HTTP status and request id. */
export function arkErrorFrom(
  httpStatus: number,
  json: unknown,
  operation: ArkOperation,
  requestIdHeader?: string,
  retryAfterMs?: number,
): ApiError {
  const parsed = arkErrorBodySchema.safeParse(json);
  const code = parsed.success ? parsed.data.error.code : `HTTP_${httpStatus}`;
  const serverMessage = parsed.success
    ? parsed.data.error.message
    : `Ark answered HTTP ${httpStatus} without an error body${httpStatus >= 500 ? " (the service may be down)" : " (check the endpoint address)"}`;
  const requestId = arkRequestId(serverMessage, requestIdHeader);
  const hint = hintFor(code, operation);
  const message = `Ark error ${code}${parsed.success && parsed.data.error.param ? ` (${parsed.data.error.param})` : ""}: ${serverMessage}${hint ? ` — ${hint}` : ""}`;
  const base = { provider: "ark" as const, httpStatus, code, ...(requestId ? { requestId } : {}) };
  if (httpStatus === 429 || code === "TooManyRequests")
    return new RateLimitError(message, { ...base, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  if (
    code === "AuthenticationError" ||
    code === "AccessDenied" ||
    code === "ModelNotOpen" ||
    httpStatus === 401
  )
    return new AuthError(message, { ...base, retryable: false });
  if (code === "AccountOverdueError")
    return new InsufficientCreditsError(message, { ...base, retryable: false });
  if (code.includes("SensitiveContent"))
    return new ContentPolicyError(message, { ...base, retryable: false });
  // A 5xx (or a 2xx that is not Ark's JSON: something in between) is transient for calls safe to repeat.
  const transient = httpStatus >= 500 || (!parsed.success && httpStatus < 300);
  return new ApiError(message, { ...base, retryable: transient });
}
