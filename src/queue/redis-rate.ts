/**
 * `--upstream-qps` across machines: every worker of a deployment takes its request slots from one sorted set
 * in Redis (Redis's own clock), the distributed form of RequestRate's rule: a request may start only when the
 * request `perSecond` places before it has *finished* at least one window ago. A server, which sees each
 * request somewhere between its start and its answer, then never counts more than `perSecond` in any one
 * second, whatever the latencies. A slot held by a worker that died frees itself after `holdMs`.
 */
import { randomBytes } from "node:crypto";
import type { ReleaseRequest, RequestGate } from "../batch/rate.js";
import { AbortError } from "../errors.js";
import { sleep as realSleep } from "../http/sleep.js";

/** Takes a slot (returns 0: the member is in flight until released) or says how many ms to wait. */
const TAKE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[4]))
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return 20 end
return oldest + window - now + 1
`;

/** Marks a slot's request finished now (if the slot is still there). */
const RELEASE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
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
  /** How long a slot counts as in flight when its release never comes (a dead worker), ms; default 120 s. */
  holdMs?: number;
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
    this.windowMs = Math.ceil((this.limit * 1000) / options.perSecond);
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const member = `${this.owner}:${this.sequence++}`;
      const { client, key } = this.options;
      const hold = this.options.holdMs ?? 120_000;
      const wait = Number(await client.eval(TAKE_SLOT, 1, key, this.windowMs, this.limit, member, hold));
      if (wait <= 0) {
        return () => {
          client.eval(RELEASE_SLOT, 1, key, member).catch(() => undefined);
        };
      }
      await this.sleep(wait, signal);
    }
  }
}
