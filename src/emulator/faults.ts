import type { ProviderName } from "../errors.js";
import type { FaultKind, Operation } from "./types.js";

/** Fractions in [0, 1] of operations that fail in each way. */
export interface FaultRates {
  serverError?: number;
  throttleQps?: number;
  throttleConcurrency?: number;
  reset?: number;
  /** Submits and polls: an HTTP 200 answer that is not JSON (a proxy's error page). */
  garbage?: number;
  /** Downloads only: send part of the body, then cut the connection. */
  truncate?: number;
}

export interface FaultOptions {
  /** Rates for every operation, or per operation (`{ poll: { reset: 0.02 } }`); per-operation rates win. */
  all?: FaultRates;
  submit?: FaultRates;
  poll?: FaultRates;
  download?: FaultRates;
  /** Fraction of tasks that end failed (the provider's generation-failed code). */
  taskFailure?: number;
  /** Submits + polls per second per provider before throttling (HTTP 429 / 50429). */
  qps?: number;
  /** Unfinished tasks per provider before submits are refused (50430). */
  maxConcurrentTasks?: number;
}

export type DownloadFault = "reset" | "truncate" | "server-error";

/** Decides, reproducibly from a seeded random source, which operations fail and how. */
export class FaultPlan {
  private readonly windows = new Map<ProviderName, number[]>();

  constructor(
    private readonly options: FaultOptions,
    private readonly random: () => number,
  ) {}

  rates(operation: Operation): FaultRates {
    return { ...this.options.all, ...this.options[operation] };
  }

  /** The fault for a submit or poll, if any; `unfinished` is the provider's count of running tasks. */
  decide(
    operation: Operation,
    provider: ProviderName,
    now: number,
    unfinished: number,
  ): FaultKind | undefined {
    if (this.overQps(provider, now)) return "throttle-qps";
    const max = this.options.maxConcurrentTasks;
    if (operation === "submit" && max !== undefined && unfinished >= max) return "throttle-concurrency";
    const rates = this.rates(operation);
    const roll = this.random();
    let edge = 0;
    for (const [kind, rate] of [
      ["server-error", rates.serverError],
      ["throttle-qps", rates.throttleQps],
      ["throttle-concurrency", rates.throttleConcurrency],
      ["reset", rates.reset],
      ["garbage", rates.garbage],
    ] as const) {
      edge += rate ?? 0;
      if (roll < edge) return kind;
    }
    return undefined;
  }

  decideDownload(): DownloadFault | undefined {
    const rates = this.rates("download");
    const roll = this.random();
    let edge = 0;
    for (const [kind, rate] of [
      ["server-error", rates.serverError],
      ["reset", rates.reset],
      ["truncate", rates.truncate],
    ] as const) {
      edge += rate ?? 0;
      if (roll < edge) return kind;
    }
    return undefined;
  }

  taskFails(): boolean {
    const rate = this.options.taskFailure ?? 0;
    return rate > 0 && this.random() < rate;
  }

  /** Sliding one-second window of submits and polls per provider. */
  private overQps(provider: ProviderName, now: number): boolean {
    const qps = this.options.qps;
    if (qps === undefined) return false;
    const window = this.windows.get(provider) ?? [];
    while (window.length > 0 && (window[0] as number) <= now - 1000) window.shift();
    if (window.length >= qps) {
      this.windows.set(provider, window);
      return true;
    }
    window.push(now);
    this.windows.set(provider, window);
    return false;
  }
}
