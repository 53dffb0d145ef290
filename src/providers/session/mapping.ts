/**
 * Pure mappings for jimeng-api answers: the HTTP-200 `{code, message, data:null}` error envelope → the SDK's
 * typed errors, upstream `fail_code`s → explanations, and the async routes' raw
 * status numbers → task states. No I/O.
 */
import {
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  RateLimitError,
} from "../../errors.js";
import { redactSecrets } from "../../http/redact.js";
import type { Interpretation, RawResponse } from "../../http/transport.js";

export interface Envelope {
  code: number;
  message: string;
}

/** The error envelope in a body, if it is one (a negative numeric `code`). Success bodies are never wrapped. */
export function readEnvelope(json: unknown): Envelope | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
  const { code, message } = json as { code?: unknown; message?: unknown };
  if (typeof code !== "number" || code >= 0) return undefined;
  return { code, message: typeof message === "string" ? message : "" };
}

export const SESSION_HINT =
  "get a fresh sessionid: log in to jimeng.jianying.com (CN) or dreamina.capcut.com (international), open DevTools → Application → Cookies and copy the value of `sessionid` (keep any us-/hk-/jp-/sg- prefix)";

const UNKNOWN_ROUTE = /正确的请求路径|当前请求为|unknown route/i;
const RATE_LIMITED = /rate.?limit|too many requests|频繁|限流|qps/i;

/** True when an envelope is the server's "no such route" answer (-1000), used to detect the query style. */
export function isUnknownRoute(envelope: Envelope): boolean {
  return envelope.code === -1000 && UNKNOWN_ROUTE.test(envelope.message);
}

/** What an upstream `fail_code` means, as far as anyone knows. */
export function explainFailCode(code: string | number | null | undefined): string | undefined {
  switch (String(code ?? "")) {
    case "2038":
      return "the content was rejected by upstream moderation (fail_code 2038): rephrase the prompt or change the input images";
    case "2047":
      return "a sensitive word was rejected (fail_code 2047): rephrase the prompt";
    case "1017":
      return "upstream refused the request from this network (fail_code 1017): seen on international sites and nanobanana; users fixed it by routing all traffic through the session's region (VPN in TUN mode)";
    case "121212":
      return "the account is not entitled to this model (fail_code 121212): nanobananapro no longer works on free international accounts";
    default:
      return undefined;
  }
}

/** Hints for upstream `ret` codes that the server wraps in -2001 "(错误码: N)" messages. */
function upstreamRetHint(ret: string | undefined): string | undefined {
  switch (ret) {
    case "3000":
      return "region not allowed: the server's IP region must match the session's region (us-/hk-/jp-/sg- prefix); use a proxy in that region";
    case "3018":
      return "upstream refused an outdated client: upgrade the jimeng-api server";
    case "4013":
    case "1019":
    case "-4":
      return "upstream risk control flagged the account (异常行为 / shark); wait, use the website once by hand, or use another session";
    default:
      return undefined;
  }
}

export interface ErrorContext {
  /** `session #2 (us)`: how the message names the session. */
  session?: string;
  /** Raw tokens to scrub from any server text. */
  secrets: readonly string[];
  /** True for polls and checks: the error may be retried. */
  safe: boolean;
}

/** The typed error for an error envelope. Server text is scrubbed of session ids before it is kept. */
export function errorFromEnvelope(envelope: Envelope, context: ErrorContext): ApiError {
  const text = redactSecrets(envelope.message, context.secrets).trim();
  const detail = text ? `: ${text}` : "";
  const who = context.session ?? "the session";
  const base = { provider: "session" as const, httpStatus: 200, code: envelope.code };
  const ret = /错误码[:：]\s*(-?\d+)/.exec(text)?.[1];
  switch (envelope.code) {
    case -2002:
      return new AuthError(`${who} was rejected as expired or logged out (code -2002)`, {
        ...base,
        hint: SESSION_HINT,
      });
    case -2009:
      return new InsufficientCreditsError(`not enough credits on ${who} (code -2009)${detail}`, {
        ...base,
        hint: "claim the daily credits on the website, try a lower resolution (4k costs more), or use another session",
      });
    case -2006:
      return new ContentPolicyError(
        `the prompt or an input image was rejected by moderation (code -2006)${detail}`,
        {
          ...base,
          hint: "rephrase the prompt or change the input images",
        },
      );
    case -2000:
      return new ApiError(`the server refused the request parameters (code -2000)${detail}`, {
        ...base,
        hint: "check the request against the model's options",
      });
    case -2007:
    case -2008: {
      const what = envelope.code === -2007 ? "image" : "video";
      const explanation = explainFailCode(ret);
      const message = `${what} generation failed (code ${envelope.code})${detail}`;
      if (ret === "2038" || ret === "2047") {
        return new ContentPolicyError(message, { ...base, ...(explanation ? { hint: explanation } : {}) });
      }
      return new ApiError(message, { ...base, ...(explanation ? { hint: explanation } : {}) });
    }
    case -1000:
      // Also an unexpected exception inside the server: retried on safe calls (polls, checks), never on
      // submits. The unknown-route answer is final: it drives the query-style detection.
      return new ApiError(`the server reported an error (code -1000)${detail}`, {
        ...base,
        retryable: context.safe && !UNKNOWN_ROUTE.test(text),
      });
    case -2001: {
      if (RATE_LIMITED.test(text)) {
        return new RateLimitError(`the server is rate limiting requests (code -2001)${detail}`, {
          ...base,
          hint: "slow down or use fewer parallel jobs",
        });
      }
      if (ret === "1006" || ret === "5000") {
        return new InsufficientCreditsError(`not enough credits on ${who} (code -2001)${detail}`, {
          ...base,
          hint: "claim the daily credits on the website, or use another session",
        });
      }
      const hint = upstreamRetHint(ret);
      return new ApiError(`the upstream request failed (code -2001)${detail}`, {
        ...base,
        retryable: context.safe && hint === undefined,
        ...(hint ? { hint } : {}),
      });
    }
    default:
      return new ApiError(`the server answered code ${envelope.code}${detail}`, base);
  }
}

/**
 * Interprets any answer of a jimeng-api server: the error envelope (HTTP 200), HTTP failures from the server
 * or a proxy in front of it, and bodies `read` cannot make sense of.
 */
export function interpretSession<T>(
  response: RawResponse,
  read: (json: unknown, text: string) => T | undefined,
  context: ErrorContext,
): Interpretation<T> {
  const envelope = readEnvelope(response.json);
  if (envelope) return { ok: false, error: errorFromEnvelope(envelope, context) };
  const base = { provider: "session" as const, httpStatus: response.status };
  if (response.status < 200 || response.status >= 300) {
    const snippet = redactSecrets(response.text.slice(0, 200), context.secrets).trim();
    const detail = snippet ? `: ${snippet}` : "";
    if (response.status === 401 || response.status === 403) {
      return {
        ok: false,
        error: new AuthError(
          `the server refused ${context.session ?? "the session"} (HTTP ${response.status})`,
          {
            ...base,
            code: response.status,
            hint: SESSION_HINT,
          },
        ),
      };
    }
    if (response.status === 429) {
      return {
        ok: false,
        error: new RateLimitError(`the server is rate limiting requests (HTTP 429)`, { ...base, code: 429 }),
      };
    }
    return {
      ok: false,
      error: new ApiError(`the server answered HTTP ${response.status}${detail}`, {
        ...base,
        code: response.status === 404 ? "NOT_FOUND" : response.status,
        retryable: response.status >= 500,
      }),
    };
  }
  const value = read(response.json, response.text);
  if (value === undefined) {
    return {
      ok: false,
      error: new ApiError("the server's answer did not have the expected shape", {
        ...base,
        code: "BAD_RESPONSE",
        // Safe calls (polls) try again: a proxy's error page with HTTP 200 says nothing about the task.
        retryable: true,
        hint: "check that the endpoint is a jimeng-api server (GET / names the service)",
      }),
    };
  }
  return { ok: true, value };
}

// ---------------------------------------------------------------------------------------------------------
// Async task status

export type SessionTaskState =
  | { state: "running" }
  | { state: "succeeded"; partial: boolean }
  | { state: "failed"; code: string | number; message: string };

/**
 * The task state for an async query's raw status:
 * 20/42/45 running; 10 succeeded; 50 succeeded once it carries items (still finishing before that);
 * 30 failed with `fail_code`, unless items came back (partial success: the items are kept).
 * Unknown numbers count as running: upstream has added intermediate codes before.
 */
export function mapAsyncStatus(
  status: number,
  failCode: string | null,
  resultCount: number,
): SessionTaskState {
  switch (status) {
    case 10:
      if (resultCount > 0) return { state: "succeeded", partial: false };
      return { state: "failed", code: "NO_OUTPUT", message: "the task finished without any output" };
    case 50:
      return resultCount > 0 ? { state: "succeeded", partial: false } : { state: "running" };
    case 30: {
      if (resultCount > 0) return { state: "succeeded", partial: true };
      const explanation = explainFailCode(failCode);
      return {
        state: "failed",
        code: failCode ?? 30,
        message: explanation ?? `generation failed (status 30${failCode ? `, fail_code ${failCode}` : ""})`,
      };
    }
    default:
      return { state: "running" };
  }
}
