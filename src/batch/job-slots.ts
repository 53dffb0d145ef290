/**
 * The batch's job slots: a p-limit whose size the AIMD controller lowers when the provider refuses for too
 * many tasks in flight and raises again on success. A throttle seen anywhere (a submit, a poll, a transport
 * retry through the ThrottleFeed) lowers it once per round: the ticket is renewed only when a submit succeeds
 * after it, so a burst of refusals of requests already under way counts as one.
 */
import pLimit, { type LimitFunction } from "p-limit";
import type { OnBatchEvent } from "./events.js";
import { AimdConcurrency, type AimdTicket } from "./rate.js";
import type { ThrottleFeed } from "./throttle-feed.js";

export class JobSlots {
  private readonly limit: LimitFunction;
  private readonly aimd: AimdConcurrency;
  private ticket: AimdTicket;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(concurrency: number, emit: OnBatchEvent, feed?: ThrottleFeed) {
    this.limit = pLimit(concurrency);
    let reported = false;
    this.aimd = new AimdConcurrency({
      max: concurrency,
      target: this.limit,
      onChange: (change) => {
        emit({ type: "concurrency", change });
        if (change.reason === "throttled" && !reported) {
          reported = true;
          emit({ type: "throttled", from: change.from, to: change.to });
        }
      },
    });
    this.ticket = this.aimd.start();
    this.unsubscribe = feed?.subscribe(() => this.throttled());
  }

  /** Runs `work` in a slot. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** A submit is about to be sent: the ticket to pass back with its outcome. */
  submitting(): AimdTicket {
    return this.aimd.start();
  }

  submitSucceeded(ticket: AimdTicket): void {
    this.aimd.succeeded(ticket);
    this.ticket = this.aimd.start();
  }

  /** A submit refused for too many tasks in flight. */
  submitThrottled(ticket: AimdTicket): void {
    this.aimd.throttled(ticket);
  }

  /** Too many tasks in flight, seen by a poll or a transport retry. */
  throttled(): void {
    this.aimd.throttled(this.ticket);
  }

  dispose(): void {
    this.unsubscribe?.();
  }
}
