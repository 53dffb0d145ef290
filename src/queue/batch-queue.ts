/**
 * `jimeng batch --redis`: the batch runner's plan, journal, report and progress stay in this process; the jobs
 * run on the shared BullMQ queue's `jimeng worker` processes, which save the files into the batch's output
 * folder inside the shared data folder. Each job of a run has a deterministic queue id (the run id kept in
 * `<out>/.jimeng/queue.json`, the job's id and content hash), so a re-attached run adds each job once.
 *
 * The queue's job is the truth and the journal follows it: what a worker records on the job (`submitting`,
 * then the upstream `ref`, then the outcome) is copied into the journal as it is seen, through queue events
 * with a periodic re-read as the safety net. A resume looks at the queue first: a job still there is followed
 * (never added again); a job Redis lost is added again from the journal (polled when its task id was recorded;
 * the uncertain-submit rule when it was caught mid-submit).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Job, Queue, QueueEvents } from "bullmq";
import { checkRecordedFiles, describeProblems } from "../batch/files-on-disk.js";
import { type BatchJob, isRemoteImage, toGenerationRequest } from "../batch/job.js";
import {
  type JobExecutor,
  type JobOutcome,
  type JobRunnerOptions,
  OUTPUT_MISSING_CODE,
  rerecord,
} from "../batch/job-runner.js";
import { JOURNAL_DIR, type JournalError } from "../batch/journal.js";
import type { PlannedJob } from "../batch/plan.js";
import type { Superseded } from "../batch/superseded.js";
import { type ProviderName, ValidationError } from "../errors.js";
import { isInside } from "../fs/paths.js";
import { writeFileSafely } from "../fs/safe-write.js";
import { sniffImage } from "../media/sniff.js";
import { imageDataUrl } from "../providers/image-reference.js";
import type { TaskRef } from "../providers/types.js";
import { loadBullMq, QUEUE_NAME, type RedisTarget, whenReady } from "./bullmq.js";
import {
  batchJobIdFor,
  parseJobData,
  type QueueJobData,
  type QueueJobProgress,
  type QueueJobResult,
} from "./job-data.js";
import { describe } from "./outcome.js";
import type { StoredRequest } from "./store.js";

/** `<out>/.jimeng/queue.json`: which run of the queue this output folder's journal belongs to. */
export const QUEUE_RUN_FILE = "queue.json";

/** How long a batch's finished jobs stay in Redis (a late resume finds their outcome there). */
const KEEP_FINISHED_S = 7 * 24 * 3600;

const UNFINISHED = new Set(["waiting", "delayed", "prioritized", "active", "waiting-children", "paused"]);
const NOT_STARTED = new Set(["waiting", "delayed", "prioritized", "paused"]);

export interface QueueRun {
  /** Random, made by a fresh run; a resume keeps it, so its jobs have the same queue ids. */
  run: string;
  /** The Redis key prefix the run used (a resume on another prefix would not find its jobs). */
  prefix: string;
}

/**
 * The queue run of an output folder: a new one for a fresh run (written before any job is added), the
 * recorded one for a resume (a new one when the earlier runs were not on the queue).
 */
export async function queueRun(out: string, prefix: string, resume: boolean): Promise<QueueRun> {
  const file = path.join(out, JOURNAL_DIR, QUEUE_RUN_FILE);
  if (resume) {
    const recorded = await readQueueRun(out);
    if (recorded) {
      if (recorded.prefix !== prefix) {
        throw new ValidationError([
          {
            path: "--redis-prefix",
            message: `this batch's jobs were queued under the prefix "${recorded.prefix}"; resume it with --redis-prefix ${recorded.prefix}`,
          },
        ]);
      }
      return recorded;
    }
  }
  const run: QueueRun = { run: randomBytes(12).toString("hex"), prefix };
  await writeFileSafely(file, `${JSON.stringify(run)}\n`, { what: "queue run file" });
  return run;
}

/** The queue run recorded in `out`, if its batch ran on a queue. */
export async function readQueueRun(out: string): Promise<QueueRun | undefined> {
  const text = await readFile(path.join(out, JOURNAL_DIR, QUEUE_RUN_FILE), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<QueueRun>;
    if (typeof value.run === "string" && typeof value.prefix === "string") {
      return { run: value.run, prefix: value.prefix };
    }
  } catch {
    // A torn file: treated as absent (a resume then starts a new run id and re-adds from the journal).
  }
  return undefined;
}

/**
 * The output folder as the workers see it: relative to the shared data folder, "/"-separated. Throws a
 * ValidationError naming `-o` when the folder is not inside the data folder.
 */
export function folderInsideData(out: string, data: string): string {
  const root = path.resolve(data);
  const folder = path.resolve(out);
  if (!isInside(root, folder)) {
    throw new ValidationError([
      {
        path: "-o",
        message: `with --redis the output folder must be inside the shared data folder (--data ${data}), which every worker mounts`,
      },
    ]);
  }
  return path.relative(root, folder).split(path.sep).join("/");
}

export interface BatchQueueOptions {
  target: RedisTarget;
  run: QueueRun;
  /** The output folder relative to the shared data folder (`folderInsideData`). */
  dir: string;
  /** The provider of jobs that name none (the batch's `--provider`). */
  provider: ProviderName;
  /** Submit again a job caught mid-submit whose queue job Redis lost (default true). */
  resubmitUncertain?: boolean;
  /** How often a followed job is re-read when no event about it came, in ms (default 2 s). */
  recheckMs?: number;
  log?: (message: string) => void;
}

/** The connection to the queue for one batch run; `executor` plugs it into `runBatch`. */
export class BatchQueue {
  readonly counters = { added: 0, attached: 0, readded: 0, removedOnStop: 0 };
  private readonly wakers = new Map<string, () => void>();
  private readonly watched = new WeakSet<AbortSignal>();

  private constructor(
    private readonly options: BatchQueueOptions,
    private readonly queue: Queue<QueueJobData, QueueJobResult>,
    private readonly events: QueueEvents,
  ) {
    const wake = ({ jobId }: { jobId: string }) => this.wakers.get(jobId)?.();
    for (const name of ["progress", "completed", "failed", "active", "removed"] as const) {
      events.on(name, wake);
    }
  }

  /**
   * Connects (bullmq loaded here); fails with a clear message when Redis does not answer. `run` is asked for
   * once connected, so a queue that cannot be reached leaves no run recorded in the output folder.
   */
  static async open(
    settings: Omit<BatchQueueOptions, "run">,
    run: () => Promise<QueueRun>,
  ): Promise<BatchQueue> {
    const options = settings as BatchQueueOptions;
    const bull = await loadBullMq();
    const { connection, prefix } = options.target;
    const queue = new bull.Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, { connection, prefix });
    const events = new bull.QueueEvents(QUEUE_NAME, { connection, prefix });
    const warn = (error: Error) => options.log?.(`queue connection: ${describe(error)}`);
    queue.on("error", warn);
    events.on("error", warn);
    try {
      await whenReady(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), options.target);
    } catch (error) {
      await Promise.allSettled([queue.disconnect(), events.disconnect()]);
      throw error;
    }
    try {
      return new BatchQueue({ ...options, run: await run() }, queue, events);
    } catch (error) {
      await Promise.allSettled([queue.close(), events.close()]);
      throw error;
    }
  }

  /** How many workers are connected to the queue now (none: the jobs wait until one starts). */
  workers(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  executor(context: JobRunnerOptions): JobExecutor {
    return new QueuedJobs(this, context);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }

  /** @internal */
  get settings(): BatchQueueOptions {
    return this.options;
  }

  /** @internal */
  getJob(id: string): Promise<Job<QueueJobData, QueueJobResult> | undefined> {
    return this.queue.getJob(id);
  }

  /** @internal Adds a job (a no-op when one with the id is there). */
  async add(id: string, data: QueueJobData): Promise<void> {
    await this.queue.add("batch", data, {
      jobId: id,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
  }

  /**
   * @internal Resolves on the next event about job `id`, after `recheckMs`, or when `signal` aborts: the
   * caller then re-reads the job.
   */
  nudge(id: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakers.get(id) === done) this.wakers.delete(id);
        resolve();
      };
      const timer = setTimeout(done, this.options.recheckMs ?? 2000);
      this.wakers.set(id, done);
      if (signal?.aborted) done();
      else if (signal) this.wakeAllOnAbort(signal);
    });
  }

  /**
   * One abort listener for all followers: one each would pass Node's limit of 10 (the batch follows 64 jobs
   * by default) and print a MaxListenersExceededWarning.
   */
  private wakeAllOnAbort(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener(
      "abort",
      () => {
        for (const wake of [...this.wakers.values()]) wake();
      },
      { once: true },
    );
  }
}

/** What a follower knows of its job so far, to journal each step once. */
interface Seen {
  /** Submits the journal has a `submitting` record for. */
  submits: number;
  /** The job's worker had started a submit and recorded no task id yet. */
  submitting: boolean;
  /**
   * A worker held the job at the last look (or it was not looked at yet): it may have sent the submit
   * before its `submitting` record reached this process.
   */
  taken: boolean;
  ref?: TaskRef;
  progress: number;
  /** Retries of the job's wait or download already shown. */
  retried: number;
}

/** Batch jobs carried out by the queue's workers: added (or found), then followed to their end. */
class QueuedJobs implements JobExecutor {
  constructor(
    private readonly queue: BatchQueue,
    private readonly context: JobRunnerOptions,
  ) {}

  private get stopped(): boolean {
    return this.context.interruption.interrupted;
  }

  async run(planned: PlannedJob): Promise<JobOutcome> {
    const { job, previous } = planned;
    const id = this.idOf(job);
    // The queue first: a job it still has is followed, whatever the journal managed to record.
    const found = (await this.queue.getJob(id)) ?? (await this.earlierId(planned));
    if (found) {
      const state = await found.getState();
      const recorded =
        (state === "completed" && previous?.status === "succeeded") ||
        (state === "failed" && previous?.status === "failed");
      if (!recorded) {
        this.queue.counters.attached++;
        const journaled = previous?.submissions ?? 0;
        return this.follow(job, found.id ?? id, "poll", planned.reason, { submits: journaled });
      }
    }
    if (planned.action === "skip" && planned.reason === "succeeded" && this.context.resume) {
      const problems = await checkRecordedFiles(this.context.out, previous?.files ?? []);
      if (problems.length > 0) return this.redownload(planned, describeProblems(problems));
    }
    if (planned.action === "skip") {
      await rerecord(this.context.journal, planned);
      const error = planned.reason === "failed" ? previous?.error : undefined;
      this.context.emit({ type: "skip", job, reason: planned.reason, ...(error ? { error } : {}) });
      return planned.reason === "succeeded" ? "succeeded" : "failed";
    }
    if (this.stopped) return "stopped";
    const ref = planned.action === "poll" ? planned.ref : undefined;
    if (ref) await rerecord(this.context.journal, planned);
    return this.addAndFollow(job, id, ref, previous?.submissions ?? 0, planned.reason);
  }

  async keepPaid({ job, ref, replacedBy }: Superseded): Promise<JobOutcome> {
    this.context.emit({ type: "superseded", job, ref, ...(replacedBy !== undefined ? { replacedBy } : {}) });
    if (this.stopped) return "stopped";
    await this.context.journal.submitted(job, ref);
    const id = this.idOf(job);
    const found = await this.queue.getJob(id);
    if (found && UNFINISHED.has(await found.getState())) {
      return this.follow(job, id, "poll", "submitted", { submits: 1, ref });
    }
    return this.addAndFollow(job, id, ref, 1, "submitted");
  }

  private idOf(job: Pick<BatchJob, "id" | "hash">): string {
    return batchJobIdFor(this.queue.settings.run.run, job);
  }

  /** The queue job of a journal entry this job took over (a renamed job, shifted `line-N` ids). */
  private async earlierId(planned: PlannedJob) {
    if (planned.matchedFrom === undefined || planned.previous === undefined) return undefined;
    return this.queue.getJob(this.idOf({ id: planned.matchedFrom, hash: planned.previous.hash }));
  }

  private async redownload(planned: PlannedJob, what: string): Promise<JobOutcome> {
    const ref = planned.previous?.ref;
    if (ref === undefined) {
      return this.end(planned.job, "failed", {
        error: {
          code: OUTPUT_MISSING_CODE,
          message: `${what}, and the journal has no task to download it from again`,
        },
      });
    }
    if (this.stopped) return "stopped";
    if (planned.matchedFrom !== undefined) await this.context.journal.submitted(planned.job, ref);
    return this.addAndFollow(
      planned.job,
      this.idOf(planned.job),
      ref,
      planned.previous?.submissions ?? 1,
      "missing-files",
    );
  }

  /** Adds the job (a finished one under the same id goes first: this is a new attempt), then follows it. */
  private addAndFollow(
    job: BatchJob,
    id: string,
    ref: TaskRef | undefined,
    submits: number,
    reason: PlannedJob["reason"],
  ): Promise<JobOutcome> {
    return this.context.slots.run(async () => {
      if (this.stopped) return "stopped";
      const earlier = await this.queue.getJob(id);
      if (earlier) {
        if (UNFINISHED.has(await earlier.getState())) {
          return this.follow(job, id, ref ? "poll" : "submit", reason, { submits, ref }, { inSlot: true });
        }
        await earlier.remove();
      }
      await this.queue.add(id, await this.jobData(job, ref, submits));
      this.queue.counters.added++;
      return this.follow(
        job,
        id,
        ref ? "poll" : "submit",
        reason,
        { submits, ref },
        { inSlot: true, justAdded: true },
      );
    });
  }

  private async jobData(job: BatchJob, ref: TaskRef | undefined, submits: number): Promise<QueueJobData> {
    const { dir, provider } = this.queue.settings;
    const request = {
      ...toGenerationRequest(job),
      ...(job.images ? { images: await Promise.all(job.images.map(inlineImage)) } : {}),
    };
    const timeoutMs = this.context.timeout;
    return {
      taskId: job.id,
      request: request as StoredRequest,
      output: { dir, name: job.name ?? this.context.name, id: job.id },
      provider: job.provider ?? provider,
      submits,
      ...(ref ? { ref } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
  }

  /**
   * Follows queue job `id` to its end, journaling what its worker records; re-adds it when Redis lost it. On
   * an interrupt a job no worker took yet is taken out of the queue (nothing more is paid); a running one
   * goes on on its worker, and `--resume` re-attaches to it.
   */
  private async follow(
    job: BatchJob,
    id: string,
    action: "submit" | "poll",
    reason: PlannedJob["reason"],
    known: { submits: number; ref?: TaskRef | undefined },
    how: { inSlot?: boolean; justAdded?: boolean } = {},
  ): Promise<JobOutcome> {
    const work = async (): Promise<JobOutcome> => {
      const { emit, journal, signal } = this.context;
      emit({ type: "start", job, action, reason });
      const seen: Seen = {
        submits: known.submits,
        submitting: false,
        taken: how.justAdded !== true,
        progress: 0,
        retried: 0,
        ...(known.ref ? { ref: known.ref } : {}),
      };
      for (;;) {
        const current = await this.queue.getJob(id);
        if (!current) {
          const outcome = await this.lost(job, id, seen);
          if (outcome) return outcome;
          continue;
        }
        const state = await current.getState();
        let data: QueueJobData;
        try {
          data = parseJobData(current.data);
        } catch (error) {
          // Something else wrote this job: it fails alone, the rest of the batch goes on.
          return this.end(job, "failed", {
            error: { code: "BAD_JOB_DATA", message: `the queue's job ${id} holds ${describe(error)}` },
          });
        }
        seen.taken = !NOT_STARTED.has(state);
        await this.mirror(job, data, current.progress, seen);
        if (state === "completed" && !isResult(current.returnvalue)) {
          return this.end(job, "failed", {
            error: {
              code: "WORKER_FAILED",
              message:
                "the job was completed without a result (a worker of another program or version on this queue and prefix?)",
            },
            ...(data.ref ? { taskId: data.ref.taskId } : {}),
          });
        }
        if (state === "completed") {
          const { ref: done, outputs } = current.returnvalue;
          const files = outputs.map(({ file, sha256, bytes }) => ({ file, sha256, bytes }));
          await journal.succeeded(job, done.taskId, files);
          emit({ type: "end", job, status: "succeeded", taskId: done.taskId, files });
          return "succeeded";
        }
        if (state === "failed") {
          const error: JournalError = data.error ?? {
            code: "WORKER_FAILED",
            message: current.failedReason || "the worker failed",
          };
          return this.end(job, "failed", { error, ...(data.ref ? { taskId: data.ref.taskId } : {}) });
        }
        if (this.stopped) {
          if (NOT_STARTED.has(state)) {
            const removed = await current.remove().then(
              () => true,
              () => false,
            );
            if (removed) this.queue.counters.removedOnStop++;
          }
          return "stopped";
        }
        await this.queue.nudge(id, signal);
      }
    };
    return how.inSlot ? work() : this.context.slots.run(work);
  }

  /** Copies into the journal (and the events) what the job's worker recorded since the last look. */
  private async mirror(job: BatchJob, data: QueueJobData, progress: unknown, seen: Seen): Promise<void> {
    const { journal, emit } = this.context;
    seen.submitting = data.submitting === true && !data.ref;
    if (data.submits > seen.submits) {
      seen.submits = data.submits;
      await journal.submitting(job);
    }
    if (data.ref && data.ref.taskId !== seen.ref?.taskId) {
      seen.ref = data.ref;
      await journal.submitted(job, data.ref);
      emit({ type: "submitted", job, ref: data.ref });
    }
    if (data.retry && (data.retried ?? 0) > seen.retried) {
      seen.retried = data.retried ?? 0;
      const { phase, delayMs, error } = data.retry;
      emit({ type: "retry", job, phase, attempt: seen.retried, delayMs, error });
    }
    const reported = progress as Partial<QueueJobProgress> | undefined;
    if (seen.ref && reported?.stage === "processing" && reported.progress !== seen.progress) {
      seen.progress = reported.progress ?? seen.progress;
      const submittedAt = Date.parse(seen.ref.submittedAt);
      emit({
        type: "status",
        job,
        ref: seen.ref,
        status: "running",
        elapsedMs: Number.isFinite(submittedAt) ? Math.max(0, Date.now() - submittedAt) : 0,
      });
    }
  }

  /**
   * The job is gone from the queue while it was followed (Redis lost it, or someone removed it): added again
   * with what is known. Undefined when it was added again; an outcome when it cannot be.
   */
  private async lost(job: BatchJob, id: string, seen: Seen): Promise<JobOutcome | undefined> {
    if (this.stopped) return "stopped";
    // Without an upstream id, a job a worker held may have been submitted whatever its data said at the last look.
    const midSubmit = (seen.submitting || seen.taken) && !seen.ref;
    if (midSubmit && this.queue.settings.resubmitUncertain === false) {
      return this.end(job, "failed", {
        error: {
          code: "UNCERTAIN_SUBMIT",
          message:
            "the queue lost this job while a worker held it, before its upstream task id was recorded; it may or may not exist upstream, so it was not submitted again",
        },
      });
    }
    if (midSubmit) {
      this.queue.settings.log?.(
        `job ${job.id} was lost by the queue while a worker held it, before its upstream task id was recorded; submitting it again (it may be charged twice)`,
      );
    }
    await this.queue.add(id, await this.jobData(job, seen.ref, seen.submits));
    this.queue.counters.readded++;
    seen.taken = false;
    return undefined;
  }

  private async end(
    job: BatchJob,
    status: "failed",
    details: { error: JournalError; taskId?: string },
  ): Promise<JobOutcome> {
    const { taskId, error } = details;
    await this.context.journal.failed(job, error, taskId !== undefined ? { taskId } : {});
    this.context.emit({ type: "end", job, status, files: [], error, ...(taskId ? { taskId } : {}) });
    return "failed";
  }
}

/** A finished job's return value as `jimeng worker` makes it (anything may have completed the job). */
function isResult(value: unknown): value is QueueJobResult {
  const result = value as Partial<QueueJobResult> | null | undefined;
  return typeof result?.ref?.taskId === "string" && Array.isArray(result.outputs);
}

/** A local reference image as a data URL: the workers on other machines cannot read this machine's files. */
async function inlineImage(reference: string): Promise<string> {
  if (isRemoteImage(reference)) return reference;
  const bytes = await readFile(reference);
  const sniffed = sniffImage(bytes);
  if (!sniffed.ok)
    throw new ValidationError([{ path: "images", message: `${reference}: ${sniffed.reason}` }]);
  return imageDataUrl({ format: sniffed.format, bytes });
}
