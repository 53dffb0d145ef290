import type { RetryEvent } from "../http/transport.js";
import { isTaskLimitCode } from "./rate.js";

/**
 * Connects the providers' transport retries to a batch: create one, pass `onRetry` to the provider clients
 * (`new VisualProvider({ ..., onRetry: feed.onRetry })`) and the feed to `runBatch({ throttles: feed })`.
 * Only refusals about tasks in flight (50430) are passed on: they lower the batch's job concurrency. Refusals
 * about the request rate (HTTP 429, 50429, a session server's rate limit) are the transport's to back off per
 * request, so a throttled poll never takes job slots away from the whole batch.
 */
export class ThrottleFeed {
  readonly #listeners = new Set<() => void>();

  readonly onRetry = (event: RetryEvent): void => {
    if (!event.throttled || !isTaskLimitCode(event.code)) return;
    for (const listener of this.#listeners) listener();
  };

  /** Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
