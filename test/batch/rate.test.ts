import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import {
  AimdConcurrency,
  type ConcurrencyChange,
  isThrottle,
  TokenBucket,
  withRateLimit,
} from "../../src/batch/rate.js";
import { AbortError, ApiError, RateLimitError } from "../../src/errors.js";
import type { Provider, TaskRef } from "../../src/providers/types.js";

/** A fake clock whose sleep advances time instantly and records each wait. */
function fakeTime() {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new AbortError();
      sleeps.push(ms);
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

describe("TokenBucket", () => {
  it("lets the first request through at once, then spaces requests exactly 1/qps apart", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 4, clock: time.clock, sleep: time.sleep });
    const grantedAt: number[] = [];
    for (let index = 0; index < 5; index++) {
      await bucket.take();
      grantedAt.push(time.now);
    }
    expect(grantedAt).toEqual([1000, 1250, 1500, 1750, 2000]);
  });

  it("serves concurrent callers in call order, each reserving the next slot", async () => {
    let now = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 2,
      clock: () => now,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(waits).toEqual([500, 1000]);
    now = 1000;
    expect(bucket.waitMs).toBe(500);
  });

  it("refills while idle, up to the burst size", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 3, clock: time.clock, sleep: time.sleep });
    for (let index = 0; index < 3; index++) await bucket.take();
    expect(time.sleeps).toEqual([]);
    time.advance(10_000);
    for (let index = 0; index < 4; index++) await bucket.take();
    expect(time.sleeps).toEqual([1000]);
  });

  it("supports fractional rates", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 0.5, clock: time.clock, sleep: time.sleep });
    await bucket.take();
    await bucket.take();
    expect(time.sleeps).toEqual([2000]);
  });

  it("rejects a take aborted while waiting with AbortError, and gives its reserved token back", async () => {
    let now = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 1,
      clock: () => now,
      sleep: (ms, signal) => {
        waits.push(ms);
        return new Promise<void>((resolve, reject) => {
          if (signal === undefined) resolve();
          signal?.addEventListener("abort", () => reject(new AbortError()), { once: true });
        });
      },
    });
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    now = 1000;
    expect(bucket.waitMs).toBe(0);
    await expect(bucket.take(controller.signal)).rejects.toBeInstanceOf(AbortError);
    expect(waits).toEqual([1000]);
  });

  it("refuses a rate that is not a positive number", () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: Number.NaN })).toThrow(RangeError);
  });
});

describe("isThrottle", () => {
  it("recognises RateLimitError, HTTP 429 and the QPS / concurrency codes 50429 and 50430", () => {
    const api = (httpStatus: number, code: string | number) =>
      new ApiError("x", { provider: "visual", httpStatus, code });
    expect(isThrottle(new RateLimitError("x", { provider: "visual", httpStatus: 200, code: 50429 }))).toBe(
      true,
    );
    expect(isThrottle(api(429, "Throttled"))).toBe(true);
    expect(isThrottle(api(200, 50430))).toBe(true);
    expect(isThrottle(api(500, 50500))).toBe(false);
    expect(isThrottle(new Error("429"))).toBe(false);
  });
});

describe("AimdConcurrency", () => {
  it("halves the concurrency on throttling, down to 1, reporting each decrease", () => {
    const changes: ConcurrencyChange[] = [];
    const aimd = new AimdConcurrency({ max: 8, onChange: (change) => changes.push(change) });
    for (let index = 0; index < 4; index++) aimd.throttled(aimd.start());
    expect(aimd.limit).toBe(1);
    expect(changes).toEqual([
      { from: 8, to: 4, reason: "throttled" },
      { from: 4, to: 2, reason: "throttled" },
      { from: 2, to: 1, reason: "throttled" },
    ]);
  });

  it("decreases once for a burst of throttled requests that were all in flight together", () => {
    const changes: ConcurrencyChange[] = [];
    const aimd = new AimdConcurrency({ max: 8, onChange: (change) => changes.push(change) });
    const inFlight = Array.from({ length: 8 }, () => aimd.start());
    const lowered = inFlight.map((ticket) => aimd.throttled(ticket));
    expect(lowered.filter(Boolean)).toHaveLength(1);
    expect(aimd.limit).toBe(4);
    expect(changes).toHaveLength(1);
  });

  it("grows by one after a round of successes, back up to the configured maximum and no further", () => {
    const aimd = new AimdConcurrency({ max: 4 });
    aimd.throttled(aimd.start());
    aimd.throttled(aimd.start());
    expect(aimd.limit).toBe(1);
    const limits: number[] = [];
    for (let index = 0; index < 12; index++) {
      aimd.succeeded(aimd.start());
      limits.push(aimd.limit);
    }
    expect(limits).toEqual([2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]);
  });

  it("drives a p-limit limiter: after throttling, fewer tasks run at once", async () => {
    const limit = pLimit(4);
    const aimd = new AimdConcurrency({ max: 4, target: limit });
    aimd.throttled(aimd.start());
    expect(limit.concurrency).toBe(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });
});

describe("withRateLimit", () => {
  it("makes submits and polls share one bucket", async () => {
    const time = fakeTime();
    const calls: Array<[string, number]> = [];
    const ref: TaskRef = { provider: "visual", taskId: "t", model: "m", kind: "generate", submittedAt: "x" };
    const provider: Provider = {
      name: "visual",
      models: [],
      resolveModel: () => {
        throw new Error("unused");
      },
      submit: async () => {
        calls.push(["submit", time.now]);
        return ref;
      },
      get: async () => {
        calls.push(["get", time.now]);
        return { ref, status: "running", outputs: [] };
      },
      close: async () => {},
    };
    const limited = withRateLimit(
      provider,
      new TokenBucket({ ratePerSecond: 2, clock: time.clock, sleep: time.sleep }),
    );
    await limited.submit({} as Parameters<Provider["submit"]>[0]);
    await limited.get(ref);
    await limited.get(ref);
    expect(calls).toEqual([
      ["submit", 1000],
      ["get", 1500],
      ["get", 2000],
    ]);
  });
});
