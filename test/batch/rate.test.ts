import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import {
  AimdConcurrency,
  type ConcurrencyChange,
  isThrottle,
  RequestRate,
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

/**
 * A discrete-event clock: `sleep` registers a timer and `run` fires timers in time order, letting every
 * promise settle in between, so concurrent callers see one consistent timeline.
 */
function eventClock() {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError());
      timers.push({ at: now + Math.max(0, ms), fire: resolve });
      signal?.addEventListener("abort", () => reject(new AbortError()), { once: true });
    });
  const run = async (work: Promise<unknown>) => {
    let done = false;
    void work.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      for (let spin = 0; spin < 5; spin++) await new Promise((resolve) => setImmediate(resolve));
      if (done) break;
      timers.sort((x, y) => x.at - y.at);
      const next = timers.shift();
      if (next === undefined) throw new Error("deadlock: nothing scheduled");
      now = next.at;
      next.fire();
    }
    await work;
  };
  return { clock: () => now, sleep, run };
}

/** Most timestamps that fall in any half-open window of `windowMs`. */
function densest(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((x, y) => x - y);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe("RequestRate", () => {
  it("never lets more than N requests reach the server in any one second, whatever the latencies", async () => {
    const time = eventClock();
    const rate = new RequestRate({ perSecond: 3, clock: time.clock, sleep: time.sleep });
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const arrivals: number[] = [];
    const request = async () => {
      const release = await rate.acquire();
      const started = time.clock();
      const latency = 10 + random() * 600;
      // The server counts the request somewhere between its start and the end of its answer.
      const arrival = started + random() * latency;
      await time.sleep(arrival - started);
      arrivals.push(time.clock());
      await time.sleep(started + latency - time.clock());
      release();
    };
    const worker = async () => {
      for (let index = 0; index < 6; index++) await request();
    };
    await time.run(Promise.all(Array.from({ length: 20 }, worker)));

    expect(arrivals).toHaveLength(120);
    expect(densest(arrivals, 1000)).toBe(3);
    // Still close to the cap: 120 requests at 3/s, each window stretched by one latency at most.
    expect(time.clock()).toBeLessThan((120 / 3) * 1610);
  });

  it("does not burst after idling: the first N go at once, the next waits for the window", async () => {
    const time = eventClock();
    const rate = new RequestRate({ perSecond: 2, clock: time.clock, sleep: time.sleep });
    const granted: number[] = [];
    const take = async () => {
      const release = await rate.acquire();
      granted.push(time.clock());
      release();
    };
    await time.run(Promise.all([take(), take(), take()]));
    await time.run(time.sleep(60_000));
    await time.run(Promise.all([take(), take(), take()]));
    expect(granted).toEqual([0, 0, 1000, 61_000, 61_000, 62_000]);
  });

  it("spreads fractional rates: 0.5/s is one request every 2 s", async () => {
    const time = eventClock();
    const rate = new RequestRate({ perSecond: 0.5, clock: time.clock, sleep: time.sleep });
    const granted: number[] = [];
    const take = async () => {
      const release = await rate.acquire();
      granted.push(time.clock());
      release();
    };
    await time.run(Promise.all([take(), take(), take()]));
    expect(granted).toEqual([0, 2000, 4000]);
  });

  it("rejects an acquire aborted while waiting with AbortError, and serves the next caller", async () => {
    const time = eventClock();
    const rate = new RequestRate({ perSecond: 1, clock: time.clock, sleep: time.sleep });
    const first = await rate.acquire();
    const controller = new AbortController();
    const waiting = rate.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    first();
    const next = rate.acquire();
    await time.run(next);
    expect(time.clock()).toBe(1000);
  });

  it("refuses a rate that is not a positive number", () => {
    expect(() => new RequestRate({ perSecond: 0 })).toThrow(RangeError);
    expect(() => new RequestRate({ perSecond: Number.NaN })).toThrow(RangeError);
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
  it("makes submits and polls share one cap", async () => {
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
      new RequestRate({ perSecond: 2, clock: time.clock, sleep: time.sleep }),
    );
    await limited.submit({} as Parameters<Provider["submit"]>[0]);
    await limited.get(ref);
    await limited.get(ref);
    expect(calls).toEqual([
      ["submit", 1000],
      ["get", 1000],
      ["get", 2000],
    ]);
  });
});
