/**
 * Rate limiting for batches: a hard request cap for `--qps` (submits and polls share it), and an
 * AIMD controller that halves the concurrency when the provider throttles and creeps back up on success.
 *
 * The AIMD controller does not run anything itself: it computes the effective concurrency and pushes it to a
 * target with a writable `concurrency` — p-limit 7's `limit` function is one (`limit.concurrency = n` takes
 * effect for the next task started; running tasks are never interrupted).
 */
import { AbortError, ApiError, RateLimitError } from "../errors.js";
import { sleep as realSleep } from "../http/sleep.js";
import type { Provider } from "../providers/types.js";

export interface RequestRateOptions {
  /** The `--qps` value: at most this many requests in any one-second window (fractions spread them out). */
  perSecond: number;
  /** Milliseconds, monotonic; default `performance.now`. */
  clock?: () => number;
  /** Waits `ms` or rejects with AbortError when `signal` fires; default the SDK's abortable sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Called when the request's answer (or failure) is in. */
export type ReleaseRequest = () => void;

/**
 * A hard cap on requests per second as the server counts them. A server sees a request at some moment between
 * its start and the end of its answer, so a start-time token bucket lets `N + 1` arrive within one second when
 * latencies vary. Here a request may start only when the request `N` places before it has finished at least
 * one window ago: then any `N + 1` consecutive arrivals span a full window, whatever the latencies.
 * No burst: nothing accumulates while idle. Callers are served first come, first served.
 */
export class RequestRate {
  readonly perSecond: number;
  /** Requests per window, and the window (ms): 3/s → 3 per 1000 ms; 0.5/s → 1 per 2000 ms. */
  private readonly count: number;
  private readonly windowMs: number;
  private inFlight = 0;
  /** When the most recent requests finished, oldest first (at most `count`). */
  private readonly finished: number[] = [];
  private turn: Promise<void> = Promise.resolve();
  private onRelease: (() => void) | undefined;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: RequestRateOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) {
      throw new RangeError(`perSecond must be a positive number, got ${options.perSecond}`);
    }
    this.perSecond = options.perSecond;
    this.count = Math.max(1, Math.floor(options.perSecond));
    this.windowMs = (this.count * 1000) / options.perSecond;
    this.clock = options.clock ?? (() => performance.now());
    this.sleep = options.sleep ?? realSleep;
  }

  /** Resolves when one more request may start; call the returned function when its answer is in. */
  async acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const mine = this.turn.then(() => this.waitForSlot(signal));
    this.turn = mine.catch(() => undefined);
    await mine;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.finished.push(this.clock());
      if (this.finished.length > this.count) this.finished.shift();
      this.onRelease?.();
    };
  }

  private async waitForSlot(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const now = this.clock();
      while (this.finished.length > 0 && (this.finished[0] as number) <= now - this.windowMs) {
        this.finished.shift();
      }
      if (this.inFlight + this.finished.length < this.count) return;
      const oldest = this.finished[0];
      if (oldest !== undefined) {
        await this.sleep(oldest + this.windowMs - now, signal);
      } else {
        // Every slot is a request still in flight: wait for one to finish, then for its window.
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new AbortError(undefined, { cause: signal?.reason }));
          signal?.addEventListener("abort", onAbort, { once: true });
          this.onRelease = () => {
            this.onRelease = undefined;
            signal?.removeEventListener("abort", onAbort);
            resolve();
          };
        });
      }
    }
  }
}

/** What a transport asks before each attempt (`gate` of the provider clients): a `RequestRate` is one. */
export interface RequestGate {
  acquire(signal?: AbortSignal): Promise<ReleaseRequest>;
}

/**
 * The provider with every submit and every poll (`get`) holding a slot of `rate` while it runs: hand it to the
 * task engine (`new Jimeng({ provider: withRateLimit(provider, rate) })`) and `--qps` covers both. Retries
 * inside the provider's transport are covered only when the same gate is also the provider's `gate`.
 */
export function withRateLimit(provider: Provider, rate: RequestGate): Provider {
  const limited = async <T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> => {
    const release = await rate.acquire(signal);
    try {
      return await call();
    } finally {
      release();
    }
  };
  return {
    name: provider.name,
    models: provider.models,
    ...(provider.endpoint !== undefined ? { endpoint: provider.endpoint } : {}),
    resolveModel: (name, kind) => provider.resolveModel(name, kind),
    submit: (request, options) => limited(options?.signal, () => provider.submit(request, options)),
    get: (ref, options) => limited(options?.signal, () => provider.get(ref, options)),
    close: () => provider.close(),
  };
}

/** HTTP 429 and the Visual API's QPS / concurrency limit codes. */
const THROTTLE_CODES = new Set<string | number>([50429, 50430, "50429", "50430"]);

/** The Visual API's "too many unfinished tasks" code: a limit on jobs in flight, not on requests. */
const TASK_LIMIT_CODES = new Set<string | number>([50430, "50430"]);

/**
 * True when the refusal is about how many tasks run at once (50430): the one throttle that lowering the batch's
 * job concurrency answers. Request-rate refusals (HTTP 429, 50429) are answered per request instead.
 */
export function isTaskLimit(error: unknown): boolean {
  if (error instanceof ApiError || error instanceof RateLimitError) return TASK_LIMIT_CODES.has(error.code);
  return false;
}

/** True when a retried failure's code (`RetryEvent.code`) is the task limit. */
export function isTaskLimitCode(code: string | number | undefined): boolean {
  return code !== undefined && TASK_LIMIT_CODES.has(code);
}

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
