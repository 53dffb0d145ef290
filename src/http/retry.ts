/**
 * The retry policy, as pure functions. Whether a failure is retried depends on whether the operation is
 * safe to repeat (polls, downloads, token checks) or not (submits: they cost money), never on the method.
 */

export type Failure =
  /** No HTTP answer. `notSent` is true only when the request provably never reached the server. */
  | { kind: "network"; notSent: boolean; code?: string }
  /** An HTTP answer that is a failure. `throttled` comes from the status or the provider's own codes. */
  | { kind: "response"; status: number; throttled: boolean; retryableCode?: boolean };

export const DEFAULT_MAX_RETRIES = 3;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_HINT_MS = 60_000;

export function isRetryable(failure: Failure, safe: boolean): boolean {
  if (failure.kind === "network") return safe || failure.notSent;
  if (failure.throttled) return true;
  if (!safe) return false;
  const { status } = failure;
  return status === 408 || status === 429 || status >= 500 || failure.retryableCode === true;
}

/** Error codes (Node and undici) that prove the request never left this machine. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "UND_ERR_CONNECT_TIMEOUT",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

export function isNotSentCode(code: string | undefined): boolean {
  return code !== undefined && NOT_SENT_CODES.has(code);
}

type HeaderLookup = (name: string) => string | undefined;

/**
 * A server's hint of how long to wait, in ms: `retry-after-ms`, then `Retry-After` as seconds or an
 * HTTP date. Only hints in (0, 60 s] are honoured; anything else means "use the backoff".
 */
export function parseRetryAfter(header: HeaderLookup, now: number = Date.now()): number | undefined {
  const ms = header("retry-after-ms");
  if (ms !== undefined) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value > 0 && value <= MAX_HINT_MS) return value;
  }
  const after = header("retry-after");
  if (after === undefined) return undefined;
  const trimmed = after.trim();
  let value: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    value = Number.parseFloat(trimmed) * 1000;
  } else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    value = date - now;
  }
  return value > 0 && value <= MAX_HINT_MS ? value : undefined;
}

/**
 * Delay before retry number `attempt` (0-based): the server's hint when it gave a usable one,
 * else 0.5 s·2ⁿ capped at 8 s, minus up to 25 % jitter so that many clients do not retry in step.
 */
export function retryDelay(
  attempt: number,
  hintMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (hintMs !== undefined && hintMs > 0 && hintMs <= MAX_HINT_MS) return hintMs;
  const base = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return Math.round(base * (1 - 0.25 * random()));
}
