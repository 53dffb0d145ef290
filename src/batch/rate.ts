/**
 * Rate limiting for batches: a token bucket for `--qps` (submits and polls draw from the same bucket), and an
 * AIMD controller that halves the concurrency when the provider throttles and creeps back up on success.
 *
 * The AIMD controller does not run anything itself: it computes the effective concurrency and pushes it to a
 * target with a writable `concurrency` — p-limit 7's `limit` function is one (`limit.concurrency = n` takes
 * effect for the next task started; running tasks are never interrupted).
 */
import { AbortError, ApiError, RateLimitError } from "../errors.js";
import { sleep as realSleep } from "../http/sleep.js";
import type { Provider } from "../providers/types.js";

export interface TokenBucketOptions {
  /** Tokens added per second (the `--qps` value); may be fractional, e.g. 0.5. */
  ratePerSecond: number;
  /** Most tokens that can accumulate while idle (default 1: never more than `ratePerSecond` in any second). */
  burst?: number;
  /** Milliseconds, monotonic; default `performance.now`. */
  clock?: () => number;
  /** Waits `ms` or rejects with AbortError when `signal` fires; default the SDK's abortable sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * A token bucket that hands out tokens in call order. Each `take()` reserves the next token at once (the
 * balance may go negative) and then sleeps exactly until that token exists, so timing is exact under a fake
 * clock and callers are served first come, first served.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    const burst = options.burst ?? 1;
    if (!(burst >= 1)) throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = burst;
    this.clock = options.clock ?? (() => performance.now());
    this.sleep = options.sleep ?? realSleep;
    this.tokens = burst;
    this.last = this.clock();
  }

  /** Resolves when the caller may send one request; rejects with AbortError (returning the token) on abort. */
  async take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens * 1000) / this.ratePerSecond;
    try {
      await this.sleep(waitMs, signal);
    } catch (error) {
      this.tokens += 1;
      throw error;
    }
  }

  /** Milliseconds until a `take()` made now would resolve (0 when a token is available). */
  get waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.ratePerSecond;
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}

/**
 * The provider with every submit and every poll (`get`) drawing a token from `bucket` first: hand it to the
 * task engine (`new Jimeng({ provider: withRateLimit(provider, bucket) })`) and `--qps` covers both.
 */
export function withRateLimit(provider: Provider, bucket: Pick<TokenBucket, "take">): Provider {
  return {
    name: provider.name,
    models: provider.models,
    resolveModel: (name, kind) => provider.resolveModel(name, kind),
    submit: async (request, options) => {
      await bucket.take(options?.signal);
      return provider.submit(request, options);
    },
    get: async (ref, options) => {
      await bucket.take(options?.signal);
      return provider.get(ref, options);
    },
    close: () => provider.close(),
  };
}

/** HTTP 429 and the Visual API's QPS / concurrency limit codes. */
const THROTTLE_CODES = new Set<string | number>([50429, 50430, "50429", "50430"]);

/** True when the provider throttled us: a RateLimitError, HTTP 429, or code 50429 / 50430. */
export function isThrottle(error: unknown): boolean {
  if (error instanceof RateLimitError) return true;
  return error instanceof ApiError && (error.httpStatus === 429 || THROTTLE_CODES.has(error.code));
}

export interface ConcurrencyChange {
  from: number;
  to: number;
  reason: "throttled" | "recovered";
}

export interface AimdOptions {
  /** The configured concurrency (`-c`); the controller never goes above it. */
  max: number;
  /** Floor (default 1). */
  min?: number;
  /** Receives the effective concurrency whenever it changes, e.g. a p-limit `limit`. */
  target?: { concurrency: number };
  /** Called once per decrease and once per increase, with the old and new values. */
  onChange?: (change: ConcurrencyChange) => void;
}

/** What `start()` hands out; pass it back to `succeeded` / `throttled`. */
export interface AimdTicket {
  readonly epoch: number;
}

/**
 * Additive-increase / multiplicative-decrease concurrency control.
 *
 * - Throttled: the limit halves (rounded down, never below `min`). Requests that were started before that
 *   decrease and come back throttled too do not halve it again, so one burst of 429s is one decrease and
 *   one report.
 * - Succeeded: after `limit` successes in a row at the current limit (about one full round of requests),
 *   the limit grows by 1, up to `max`.
 */
export class AimdConcurrency {
  readonly max: number;
  readonly min: number;
  private current: number;
  private epoch = 0;
  private successes = 0;
  private readonly target: { concurrency: number } | undefined;
  private readonly onChange: ((change: ConcurrencyChange) => void) | undefined;

  constructor(options: AimdOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError(`max must be a positive integer, got ${options.max}`);
    }
    this.max = options.max;
    this.min = Math.min(Math.max(1, Math.floor(options.min ?? 1)), this.max);
    this.current = this.max;
    this.target = options.target;
    this.onChange = options.onChange;
    if (this.target !== undefined) this.target.concurrency = this.current;
  }

  /** The effective concurrency now. */
  get limit(): number {
    return this.current;
  }

  /** Call when a request starts. */
  start(): AimdTicket {
    return { epoch: this.epoch };
  }

  /** Call when a request succeeded. */
  succeeded(_ticket?: AimdTicket): void {
    if (this.current >= this.max) return;
    this.successes++;
    if (this.successes >= this.current) this.set(this.current + 1, "recovered");
  }

  /** Call when a request was throttled; returns true when this call lowered the limit. */
  throttled(ticket?: AimdTicket): boolean {
    this.successes = 0;
    if (ticket !== undefined && ticket.epoch !== this.epoch) return false;
    const next = Math.max(this.min, Math.floor(this.current / 2));
    this.epoch++;
    if (next === this.current) return false;
    this.set(next, "throttled");
    return true;
  }

  private set(next: number, reason: ConcurrencyChange["reason"]): void {
    const from = this.current;
    this.current = next;
    this.successes = 0;
    if (this.target !== undefined) this.target.concurrency = next;
    this.onChange?.({ from, to: next, reason });
  }
}
