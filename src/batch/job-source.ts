/**
 * Where a batch's jobs come from: a list in memory, or a function that reads them afresh each time it is
 * called (the runner reads its jobs more than once: to plan, then to run), so a file of a million jobs is
 * never held. `batchFileJobs` is that function for a batch file that was validated already.
 */
import { BatchValidationError, type ValidateBatchOptions, validateBatch } from "./files.js";
import type { BatchJob } from "./job.js";

export type JobSource = readonly BatchJob[] | (() => AsyncIterable<BatchJob> | Iterable<BatchJob>);

/** One read of the source, in job order. */
export function readJobs(source: JobSource): AsyncIterable<BatchJob> | Iterable<BatchJob> {
  return typeof source === "function" ? source() : source;
}

/** Jobs read ahead of the runner, at most. */
const READ_AHEAD = 64;

/**
 * The jobs of a batch file, read as a stream each time the result is called. Meant for a file that passed
 * `validateBatch` already (local image checks and `validateJob` are not repeated); a read that finds a
 * problem (the file changed since) throws BatchValidationError at its end.
 */
export function batchFileJobs(
  file: string,
  options: Pick<ValidateBatchOptions, "defaults"> = {},
): () => AsyncIterable<BatchJob> {
  return () => readValidated(file, options);
}

async function* readValidated(
  file: string,
  options: Pick<ValidateBatchOptions, "defaults">,
): AsyncGenerator<BatchJob> {
  const queue = new Handoff<BatchJob>(READ_AHEAD);
  const reading = validateBatch(file, {
    ...options,
    keepJobs: false,
    checkImages: false,
    onJob: (job) => queue.put(job),
  }).then(
    (validation) => queue.end(validation.ok ? undefined : new BatchValidationError(file, validation.issues)),
    (error: unknown) => queue.end(error),
  );
  try {
    for (let next = await queue.take(); !next.done; next = await queue.take()) yield next.value;
  } finally {
    queue.cancel();
    await reading;
  }
}

class ReadCancelled extends Error {}

/** A bounded queue from a producer that awaits `put` to a consumer that awaits `take`. */
class Handoff<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: unknown;
  private cancelled = false;
  private wakeTaker: (() => void) | undefined;
  private wakePutter: (() => void) | undefined;

  constructor(private readonly capacity: number) {}

  async put(item: T): Promise<void> {
    if (this.cancelled) throw new ReadCancelled();
    this.items.push(item);
    this.wake("taker");
    while (this.items.length >= this.capacity && !this.cancelled) {
      await new Promise<void>((resolve) => {
        this.wakePutter = resolve;
      });
    }
    if (this.cancelled) throw new ReadCancelled();
  }

  end(failure?: unknown): void {
    this.ended = true;
    if (!(failure instanceof ReadCancelled)) this.failure = failure;
    this.wake("taker");
  }

  async take(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.items.length > 0) {
        const value = this.items.shift() as T;
        this.wake("putter");
        return { done: false, value };
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.wakeTaker = resolve;
      });
    }
  }

  /** The consumer stopped: the producer's next `put` throws, and its pending one returns. */
  cancel(): void {
    this.cancelled = true;
    this.wake("putter");
  }

  private wake(who: "taker" | "putter"): void {
    const wake = who === "taker" ? this.wakeTaker : this.wakePutter;
    if (who === "taker") this.wakeTaker = undefined;
    else this.wakePutter = undefined;
    wake?.();
  }
}
