/**
 * `jimeng worker`: runs the jobs of the shared BullMQ queue with the SDK, on any machine. The money rules of
 * the embedded pool hold across machines because the job itself is the journal:
 *
 * - `submitting` is written to the job before the paid request is sent, the upstream `ref` as soon as the
 *   provider accepts it and before any poll (`job.updateData`);
 * - a job whose worker died (its lock expired: BullMQ's stalled check hands it to another worker) is
 *   polled when it carries a `ref`, never submitted again;
 * - a job caught mid-submit (`submitting`, no `ref`) follows the uncertain-submit rule of recovery.ts:
 *   submitted again by default, failed with UNCERTAIN_SUBMIT with `resubmitUncertain: false`;
 * - a throttled submit was not accepted: the whole queue pauses (`queue.rateLimit`) and the job waits again;
 * - a wait or download that failed in a way safe to repeat (`isSafeToRetry`, as in the in-process batch) goes
 *   back to the queue with its `ref`, delayed by the backoff, up to `retries` times: it is polled again, never
 *   submitted again.
 *
 * `close()` stops taking jobs and lets running ones finish; past its deadline their waits are abandoned and the
 * jobs handed back to the queue with their `ref`, for the next worker to poll.
 */
import path from "node:path";
import type { Job, Queue, Worker } from "bullmq";
import { isRemoteImage } from "../batch/job.js";
import { isSafeToRetry } from "../batch/job-runner.js";
import { isThrottle, withRateLimit } from "../batch/rate.js";
import { AbortError, type ProviderName, RateLimitError, ValidationError } from "../errors.js";
import { retryDelay } from "../http/retry.js";
import { HttpTransport } from "../http/transport.js";
import { downloadOutputs } from "../media/download.js";
import type { Provider, TaskRef, TaskStatus } from "../providers/types.js";
import { Jimeng } from "../tasks/client.js";
import { capOutputs } from "../tasks/output-cap.js";
import { type BullMq, loadBullMq, openRedis, QUEUE_NAME, type RedisTarget, whenReady } from "./bullmq.js";
import { parseJobData, type QueueJobData, type QueueJobProgress, type QueueJobResult } from "./job-data.js";
import { describe, notAccepted, storedError } from "./outcome.js";
import { RedisRate } from "./redis-rate.js";
import type { StoredError, StoredOutput } from "./store.js";
import { pollingProgress } from "./worker-pool.js";

export interface QueueWorkerOptions {
  target: RedisTarget;
  provider: Provider;
  /**
   * The provider of a batch job that names another one than `provider` (built from this machine's
   * credentials), or why there is none: such a job fails with that reason.
   */
  providers?: (name: ProviderName) => Provider | Error;
  /**
   * The shared data folder: a serve task's outputs go to `<data>/files/<job folder>/`, a batch job's to its
   * batch's output folder inside it.
   */
  data: string;
  /** Jobs this worker runs at once (default 4). */
  concurrency?: number;
  /** Most submits + polls per second for the whole deployment (every worker shares the count). */
  upstreamQps?: number;
  /** Waits and downloads of one task tried again after a failure safe to retry (default 2). */
  retries?: number;
  /** Submit again a job caught mid-submit by a crash (default true). */
  resubmitUncertain?: boolean;
  /** How long a silent worker keeps its jobs before another takes them over (BullMQ lock, default 30 s). */
  stallTimeoutMs?: number;
  /** Longest pause between two polls of one task, in ms. */
  maxPollIntervalMs?: number;
  /** Deadline of each task's wait, in ms (default the SDK's). */
  timeout?: number;
  log?: { warn(message: string): void; info(message: string): void };
  /**
   * Removes this machine's secrets from text the job carries to other machines (an upstream error may quote
   * a credential; the batch or API node that reads it does not know this worker's secrets).
   */
  redact?: (text: string) => string;
  random?: () => number;
}

export interface QueueWorkerCounters {
  submits: number;
  recoveredPolls: number;
  resubmittedUncertain: number;
  throttled: number;
  completed: number;
  failed: number;
  handedBack: number;
  /** Waits and downloads handed back to be tried again after a failure safe to retry. */
  retried: number;
}

export class QueueWorker {
  readonly counters: QueueWorkerCounters = {
    submits: 0,
    recoveredPolls: 0,
    resubmittedUncertain: 0,
    throttled: 0,
    completed: 0,
    failed: 0,
    handedBack: 0,
    retried: 0,
  };
  private readonly stop = new AbortController();
  private readonly transport = new HttpTransport();
  private bull: BullMq | undefined;
  private worker: Worker<QueueJobData, QueueJobResult> | undefined;
  private queue: Queue | undefined;
  private readonly clients = new Map<ProviderName, Jimeng | Error>();
  private gate: ((provider: Provider) => Provider) | undefined;
  private closing: Promise<void> | undefined;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly retries: number;

  constructor(private readonly options: QueueWorkerOptions) {
    const retries = options.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new ValidationError([{ path: "retries", message: `must be a whole number ≥ 0, got ${retries}` }]);
    }
    this.retries = retries;
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ValidationError([
        { path: "concurrency", message: `must be a whole number ≥ 1, got ${concurrency}` },
      ]);
    }
  }

  /** Connects and starts taking jobs; resolves once the worker listens. */
  async start(): Promise<void> {
    const bull = await loadBullMq();
    this.bull = bull;
    const { connection, prefix } = this.options.target;
    this.queue = new bull.Queue(QUEUE_NAME, { connection, prefix });
    if (this.options.upstreamQps !== undefined) {
      const client = await openRedis(this.options.target);
      this.closers.push(async () => {
        await client.quit();
      });
      const shared = new RedisRate({
        client,
        key: `${prefix}:${QUEUE_NAME}:qps`,
        perSecond: this.options.upstreamQps,
      });
      this.gate = (provider) => withRateLimit(provider, shared);
    }
    const lockDuration = this.options.stallTimeoutMs ?? 30_000;
    this.worker = new bull.Worker<QueueJobData, QueueJobResult>(
      QUEUE_NAME,
      (job, token) => this.process(job, token),
      {
        connection,
        prefix,
        concurrency: this.options.concurrency ?? 4,
        lockDuration,
        stalledInterval: lockDuration,
        // A stalled job is never failed for stalling: its next holder polls it (or applies the uncertain rule).
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        ...(this.options.upstreamQps !== undefined && this.options.upstreamQps >= 1
          ? { limiter: { max: Math.floor(this.options.upstreamQps), duration: 1000 } }
          : {}),
      },
    );
    this.worker.on("error", (error) => this.options.log?.warn(`queue connection: ${describe(error)}`));
    await whenReady(this.worker.waitUntilReady(), this.options.target);
  }

  /**
   * Stops taking jobs and lets running ones finish, at most `deadlineMs`; then abandons their waits and hands
   * them back to the queue (with their upstream ids: the next worker polls them).
   */
  close(deadlineMs = 30_000): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (worker) {
        const closed = worker.close();
        await within(closed, deadlineMs);
        this.stop.abort(new AbortError("the worker is stopping"));
        // Hand-backs need Redis; when it is gone the jobs' locks expire and the stalled check hands them back.
        if (!(await within(closed, 5000))) await within(worker.disconnect(), 1000);
      }
      if (this.queue && !(await within(this.queue.close(), 2000)))
        await within(this.queue.disconnect(), 1000);
      for (const close of this.closers) await within(close(), 2000);
      for (const client of this.clients.values()) if (client instanceof Jimeng) await client.close();
      await this.transport.close();
    })();
    return this.closing;
  }

  /** The task client of a provider (the shared rate limit applied), built on first use. */
  private client(name: ProviderName | undefined): Jimeng | Error {
    const own = this.options.provider;
    const wanted = name ?? own.name;
    const known = this.clients.get(wanted);
    if (known) return known;
    const provider =
      wanted === own.name
        ? own
        : (this.options.providers?.(wanted) ??
          new Error(`this worker has no ${wanted} provider (it runs ${own.name} jobs)`));
    const client =
      provider instanceof Error
        ? provider
        : new Jimeng({
            provider: this.gate ? this.gate(provider) : provider,
            ...(this.options.maxPollIntervalMs !== undefined
              ? { maxPollIntervalMs: this.options.maxPollIntervalMs }
              : {}),
          });
    this.clients.set(wanted, client);
    return client;
  }

  private async process(job: Job<QueueJobData, QueueJobResult>, token?: string): Promise<QueueJobResult> {
    const data = parseJobData(job.data);
    const client = this.client(data.ref?.provider ?? data.provider);
    if (client instanceof Error) {
      return this.fail(job, data, { code: "PROVIDER_UNAVAILABLE", message: client.message });
    }
    // Whoever can write to Redis writes jobs: a worker never reads its own files on a job's say-so.
    const local = (data.request.images ?? []).findIndex((image) => !isRemoteImage(image));
    if (local >= 0) {
      return this.fail(job, data, {
        code: "VALIDATION_ERROR",
        message: `images.${local}: a queued job carries image URLs or data URLs, not local paths`,
      });
    }
    if (data.ref) {
      this.counters.recoveredPolls++;
      return this.follow(job, token, client, data, data.ref);
    }
    if (data.submitting) {
      if (this.options.resubmitUncertain === false) {
        return this.fail(job, data, {
          code: "UNCERTAIN_SUBMIT",
          message:
            "a worker stopped while submitting this task; it may or may not exist upstream, so it was not submitted again",
        });
      }
      this.counters.resubmittedUncertain++;
      this.options.log?.warn(
        `job ${data.taskId} was mid-submit when its worker stopped; submitting it again (it may be charged twice)`,
      );
    }
    return this.submit(job, token, client, data);
  }

  private async submit(
    job: Job<QueueJobData, QueueJobResult>,
    token: string | undefined,
    jimeng: Jimeng,
    data: QueueJobData,
  ): Promise<QueueJobResult> {
    // Journal before paying: from here on, a dead worker leaves a job that says a submit may have happened.
    const submitting: QueueJobData = { ...data, submitting: true, submits: data.submits + 1 };
    await job.updateData(submitting);
    await job.updateProgress({ stage: "submitting" } satisfies QueueJobProgress);
    let ref: TaskRef;
    try {
      this.counters.submits++;
      ref = await jimeng.submit(data.request, {
        signal: this.stop.signal,
        onSubmitted: async (accepted) => {
          await job.updateData({ ...submitting, submitting: false, ref: accepted });
          await job.updateProgress({
            stage: "processing",
            ref: accepted,
            progress: 30,
          } satisfies QueueJobProgress);
        },
      });
    } catch (error) {
      if (notAccepted(error)) {
        // Never accepted upstream, so never charged: the job goes back to wait, as it was.
        await job.updateData({ ...submitting, submitting: false });
        const hint = error instanceof RateLimitError ? error.retryAfterMs : undefined;
        const delay = retryDelay(Math.min(data.submits + 1, 6), hint, this.options.random ?? Math.random);
        if (isThrottle(error)) {
          // One throttle pauses every worker of the queue: N machines back off together.
          this.counters.throttled++;
          await this.queue?.rateLimit(delay);
          throw (this.bull as BullMq).Worker.RateLimitError();
        }
        return this.handBack(job, token, delay);
      }
      if (error instanceof AbortError && this.stop.signal.aborted) return this.handBack(job, token, 0);
      return this.fail(job, submitting, storedError(error));
    }
    return this.follow(job, token, jimeng, { ...submitting, submitting: false, ref }, ref);
  }

  /** Polls an accepted task to its end and saves its outputs into the shared folder. */
  private async follow(
    job: Job<QueueJobData, QueueJobResult>,
    token: string | undefined,
    jimeng: Jimeng,
    data: QueueJobData,
    ref: TaskRef,
  ): Promise<QueueJobResult> {
    const submitted = Date.parse(ref.submittedAt);
    const startedAt = Number.isFinite(submitted) ? submitted : Date.now();
    let lastProgress = 30;
    let phase: "wait" | "download" = "wait";
    try {
      const result = await jimeng.waitFor(ref, {
        signal: this.stop.signal,
        ...((data.timeoutMs ?? this.options.timeout) !== undefined
          ? { timeout: data.timeoutMs ?? this.options.timeout }
          : {}),
        onUpdate: (status: TaskStatus) => {
          if (status.status !== "queued" && status.status !== "running") return;
          const progress = pollingProgress(Date.now() - startedAt, ref);
          if (progress === lastProgress) return;
          lastProgress = progress;
          void job
            .updateProgress({ stage: "processing", ref, progress } satisfies QueueJobProgress)
            .catch(() => undefined);
        },
      });
      phase = "download";
      const { dir, name, folder } = this.destination(data);
      const { outputs: made } = capOutputs(result.status, ref).status;
      const files = await downloadOutputs(made, {
        dir,
        name,
        context: {
          prompt: String(data.request.prompt ?? ""),
          model: ref.model,
          taskId: ref.taskId,
          ...(data.output ? { id: data.output.id } : {}),
        },
        signal: this.stop.signal,
        transport: this.transport,
      });
      const outputs: StoredOutput[] = files.map((file) => ({
        file: path.relative(folder, file.file).split(path.sep).join("/"),
        bytes: file.bytes,
        sha256: file.sha256,
        contentType: file.contentType,
        ...(file.url ? { sourceUrl: file.url } : {}),
      }));
      this.counters.completed++;
      return { ref, outputs };
    } catch (error) {
      if (error instanceof AbortError && this.stop.signal.aborted) return this.handBack(job, token, 0);
      const retried = data.retried ?? 0;
      if (isSafeToRetry(error) && retried < this.retries) {
        return this.retryLater(job, token, data, phase, error);
      }
      return this.fail(job, data, storedError(error));
    }
  }

  /** Hands a job whose wait or download failed back to the queue, its `ref` kept: polled again after the backoff. */
  private async retryLater(
    job: Job<QueueJobData, QueueJobResult>,
    token: string | undefined,
    data: QueueJobData,
    phase: "wait" | "download",
    error: unknown,
  ): Promise<never> {
    const retried = data.retried ?? 0;
    const delayMs = retryDelay(retried, undefined, this.options.random ?? Math.random);
    const { code, message } = this.redacted(storedError(error));
    const retry = { phase, delayMs, error: { code, message } };
    await job.updateData({ ...data, submitting: false, retried: retried + 1, retry });
    this.counters.retried++;
    this.options.log?.warn(
      `job ${data.taskId}: ${phase} failed (${message}); polling it again in ${delayMs} ms (retry ${retried + 1} of ${this.retries})`,
    );
    return this.handBack(job, token, delayMs);
  }

  /**
   * Where a job's files go, and the folder its recorded names are relative to: a serve task's folder under
   * `<data>/files` (names like `<folder>/0.png`), or a batch's output folder (names relative to it).
   */
  private destination(data: QueueJobData): { dir: string; name: string; folder: string } {
    const root = path.resolve(this.options.data);
    if (data.output) {
      const dir = path.join(root, ...data.output.dir.split("/").filter(Boolean));
      return { dir, name: data.output.name, folder: dir };
    }
    const files = path.join(root, "files");
    return { dir: path.join(files, data.folder ?? "unnamed"), name: "{index}", folder: files };
  }

  /** Puts the job back in the queue, data (and `ref`) kept: another worker, or this one later, takes it. */
  private async handBack(
    job: Job<QueueJobData, QueueJobResult>,
    token: string | undefined,
    delayMs: number,
  ): Promise<never> {
    const bull = this.bull as BullMq;
    if (this.stop.signal.aborted) this.counters.handedBack++;
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new bull.DelayedError();
  }

  /** `error` without this machine's secrets: it goes to Redis, and from there to other machines. */
  private redacted(error: StoredError): StoredError {
    return { ...error, message: this.options.redact?.(error.message) ?? error.message };
  }

  /** Records the failure on the job (the API nodes read it) and ends the job without retries. */
  private async fail(
    job: Job<QueueJobData, QueueJobResult>,
    data: QueueJobData,
    failure: StoredError,
  ): Promise<never> {
    const error = this.redacted(failure);
    this.counters.failed++;
    await job.updateData({ ...data, submitting: false, error });
    throw new (this.bull as BullMq).UnrecoverableError(`${error.code}: ${error.message}`);
  }
}

/** Waits for `work` at most `ms`; true when it settled in time. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(
    () => true,
    () => true,
  );
  const settled = await Promise.race([done, late]);
  clearTimeout(timer);
  return settled;
}
