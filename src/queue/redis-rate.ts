/**
 * `--upstream-qps` across machines: every worker of a deployment takes its request slots from one counter
 * per wall-clock second in Redis (`INCR`, expiring), so N workers together send at most `perSecond` requests
 * in any calendar second. A slot is not taken in the last `guardMs` of a second, so that a request started
 * then cannot arrive in the next second on top of that second's full share.
 */

import type { ReleaseRequest, RequestGate } from "../batch/rate.js";
import { AbortError } from "../errors.js";
import { sleep as realSleep } from "../http/sleep.js";

/** The part of an ioredis client this needs. */
export interface CounterClient {
  incr(key: string): Promise<number>;
  pexpire(key: string, ms: number): Promise<number>;
}

export interface RedisRateOptions {
  client: CounterClient;
  /** Key prefix, e.g. "jimeng:rate". */
  key: string;
  perSecond: number;
  guardMs?: number;
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class RedisRate implements RequestGate {
  private readonly limit: number;
  private readonly guardMs: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly options: RedisRateOptions) {
    if (!(options.perSecond >= 1) || !Number.isFinite(options.perSecond)) {
      throw new RangeError(`perSecond must be a number ≥ 1 across workers, got ${options.perSecond}`);
    }
    this.limit = Math.floor(options.perSecond);
    this.guardMs = options.guardMs ?? 50;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const now = this.clock();
      const second = Math.floor(now / 1000);
      const untilNext = (second + 1) * 1000 - now;
      if (untilNext > this.guardMs) {
        const key = `${this.options.key}:${second}`;
        const taken = await this.options.client.incr(key);
        if (taken === 1) await this.options.client.pexpire(key, 5000);
        if (taken <= this.limit) return () => {};
      }
      // Spread the waiters over the first part of the next second rather than all at its first millisecond.
      await this.sleep(untilNext + Math.floor(Math.random() * 50), signal);
    }
  }
}
