/**
 * Ark's image rate limit counts images, not requests (about 500 images per minute per account for Seedream
 * 4.5): a set of 15 spends 15. This keeps a sliding one-minute window of the images asked for and makes an
 * image call wait until its images fit, instead of sending it into a 429. Shared by every call of one provider.
 */
import { AbortError } from "../../errors.js";

export interface ImageRateOptions {
  /** Images per minute; 0 or Infinity turns the limit off. */
  perMinute: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const WINDOW_MS = 60_000;

export class ImageRate {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Images asked for, with when; oldest first. */
  readonly #spent: { at: number; images: number }[] = [];

  constructor(options: ImageRateOptions) {
    this.#perMinute = options.perMinute;
    this.#now = options.now ?? Date.now;
    this.#sleep =
      options.sleep ??
      ((ms, signal) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              reject(new AbortError(undefined, { cause: signal.reason }));
            },
            { once: true },
          );
        }));
  }

  /** Waits until `images` more fit in the last minute, then counts them. A set larger than the limit waits for an empty window. */
  async take(images: number, signal?: AbortSignal): Promise<void> {
    if (!(this.#perMinute > 0) || !Number.isFinite(this.#perMinute)) return;
    const wanted = Math.min(images, this.#perMinute);
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const now = this.#now();
      while (this.#spent.length > 0 && (this.#spent[0] as { at: number }).at <= now - WINDOW_MS)
        this.#spent.shift();
      let used = this.#spent.reduce((sum, entry) => sum + entry.images, 0);
      if (used + wanted <= this.#perMinute) {
        this.#spent.push({ at: now, images: wanted });
        return;
      }
      // Wait until enough of the oldest entries leave the window.
      let freeAt = now;
      for (const entry of this.#spent) {
        used -= entry.images;
        freeAt = entry.at + WINDOW_MS;
        if (used + wanted <= this.#perMinute) break;
      }
      await this.#sleep(Math.max(1, freeAt - now), signal);
    }
  }
}
