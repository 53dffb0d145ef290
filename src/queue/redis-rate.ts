/**
 * `--upstream-qps` across machines: every worker of a deployment takes its request slots from one sliding
 * log in Redis (a sorted set of start times, Redis's own clock), so N workers together start at most
 * `perSecond` requests in any window of `1000 + marginMs` ms. The margin covers the spread of network
 * latencies: a server that counts arrivals in any one-second window sees no more than `perSecond`.
 */
import { randomBytes } from "node:crypto";
import type { ReleaseRequest, RequestGate } from "../batch/rate.js";
import { AbortError } from "../errors.js";
import { sleep as realSleep } from "../http/sleep.js";

/** Takes a slot (returns 0) or says how many ms until the oldest slot leaves the window. */
const TAKE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now + 1
`;

/** The part of an ioredis client this needs. */
export interface ScriptClient {
  eval(script: string, keys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisRateOptions {
  client: ScriptClient;
  /** The sorted set's key, e.g. "jimeng:jimeng:qps". */
  key: string;
  /** At most this many request starts per second, all workers together. */
  perSecond: number;
  marginMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class RedisRate implements RequestGate {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly owner = randomBytes(6).toString("hex");
  private sequence = 0;

  constructor(private readonly options: RedisRateOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) {
      throw new RangeError(`perSecond must be a positive number, got ${options.perSecond}`);
    }
    // 3/s → 3 per 1000 ms; 0.5/s → 1 per 2000 ms (as RequestRate).
    this.limit = Math.max(1, Math.floor(options.perSecond));
    this.windowMs = Math.ceil((this.limit * 1000) / options.perSecond) + (options.marginMs ?? 100);
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const member = `${this.owner}:${this.sequence++}`;
      const wait = Number(
        await this.options.client.eval(TAKE_SLOT, 1, this.options.key, this.windowMs, this.limit, member),
      );
      if (wait <= 0) return () => {};
      await this.sleep(wait, signal);
    }
  }
}
