/**
 * Per-user and per-key limits, checked before a task is stored: unfinished tasks per user, images per UTC day
 * per user, and requests per second per API key (a token bucket). A refusal is `429` with `Retry-After` and
 * the seeds' `{error, message}` body. The admin key is the operator's and is not limited.
 */
import type { Store, StoredUser } from "../queue/store.js";
import { HttpError } from "./http-error.js";

export interface QuotaOptions {
  /** Most unfinished (pending or running) tasks per user. Default 100. */
  maxActiveTasks?: number;
  /** Most images (a video counts as one) a user may ask for per UTC day. Default 2000. */
  imagesPerDay?: number;
  /** Requests per second per API key, with a burst of twice that. Default 50. */
  keyRatePerSecond?: number;
}

export const DEFAULT_QUOTAS: Required<QuotaOptions> = {
  maxActiveTasks: 100,
  imagesPerDay: 2000,
  keyRatePerSecond: 50,
};

function tooMany(message: string, retryAfterSeconds: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new HttpError(429, "too many requests", message, {}, { "retry-after": String(seconds) });
}

/** A token bucket that never waits: it says how long until the next token (0: take it now). */
class KeyBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  /** Takes a token and returns 0, or returns the ms until one is available (taking nothing). */
  take(): number {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) * 1000) / this.perSecond;
  }
}

export class Quotas {
  private readonly limits: Required<QuotaOptions>;
  private readonly buckets = new Map<string, KeyBucket>();

  constructor(
    options: QuotaOptions,
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_QUOTAS, ...options };
  }

  /** Throws 429 when the key has used up its request rate. */
  checkRate(keyHash: string, user: StoredUser): void {
    if (user.admin) return;
    let bucket = this.buckets.get(keyHash);
    if (!bucket) {
      const rate = this.limits.keyRatePerSecond;
      bucket = new KeyBucket(rate, Math.max(1, rate * 2), this.clock);
      this.buckets.set(keyHash, bucket);
    }
    const waitMs = bucket.take();
    if (waitMs > 0) {
      throw tooMany(`this key may send ${this.limits.keyRatePerSecond} requests per second`, waitMs / 1000);
    }
  }

  /** Throws 429 when `user` may not start `tasks` more tasks asking for `images` images today. */
  checkTasks(user: StoredUser, tasks: number, images: number): void {
    if (user.admin) return;
    const active = this.store.activeTaskCount(user.id);
    if (active + tasks > this.limits.maxActiveTasks) {
      throw tooMany(
        `user ${user.id} has ${active} unfinished tasks; at most ${this.limits.maxActiveTasks} are allowed at once`,
        5,
      );
    }
    const today = this.store.imagesToday(user.id);
    if (today + images > this.limits.imagesPerDay) {
      const now = this.clock();
      const midnight = Date.UTC(
        new Date(now).getUTCFullYear(),
        new Date(now).getUTCMonth(),
        new Date(now).getUTCDate() + 1,
      );
      throw tooMany(
        `user ${user.id} asked for ${today} images today; at most ${this.limits.imagesPerDay} per day (UTC) are allowed`,
        (midnight - now) / 1000,
      );
    }
  }
}
