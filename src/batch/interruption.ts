import { AbortError } from "../errors.js";
import type { OnBatchEvent } from "./events.js";

/**
 * The run's stop switch: the first abort of `signal` marks the run interrupted (reported once); backoffs end
 * early. Submits check it before they start; nothing already sent is aborted by it.
 */
export class Interruption {
  #interrupted: boolean;
  readonly #onAbort = () => this.interrupt();

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly emit: OnBatchEvent,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {
    this.#interrupted = signal?.aborted === true;
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#interrupted) emit({ type: "interrupted" });
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Stops the run as an abort of its signal does. */
  interrupt(): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.emit({ type: "interrupted" });
  }

  /** Stops the run without reporting an interrupt (after an unexpected error: nothing new starts). */
  halt(): void {
    this.#interrupted = true;
  }

  /** Backoff that ends early (false) when the run is interrupted. */
  async pause(ms: number): Promise<boolean> {
    try {
      await this.sleep(ms, this.signal);
      return !this.#interrupted;
    } catch (error) {
      if (error instanceof AbortError || this.signal?.aborted) return false;
      throw error;
    }
  }

  dispose(): void {
    this.signal?.removeEventListener("abort", this.#onAbort);
  }
}
