/**
 * One job's life in a batch, by its plan: skip it (re-checking a succeeded job's files on resume), poll the
 * task an earlier run submitted, or submit it (journaled before it is sent and again as soon as the provider
 * accepts it), then wait, save its outputs through the media layer and record `succeeded` with files and
 * sha256, or `failed` with the error. Submits are retried only when the provider provably did not accept them;
 * polls and downloads, which are safe to repeat, up to `retries` times.
 */
import path from "node:path";
import pLimit from "p-limit";
import {
  ApiError,
  DownloadError,
  JimengError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
} from "../errors.js";
import { retryDelay } from "../http/retry.js";
import type { HttpTransport } from "../http/transport.js";
import type { TaskRef } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import { TaskFailedError } from "../tasks/errors.js";
import type { TaskEvent } from "../tasks/events.js";
import { capOutputs } from "../tasks/output-cap.js";
import type { BatchClients } from "./clients.js";
import type { OnBatchEvent } from "./events.js";
import { checkRecordedFiles, describeProblems, type FileProblem } from "./files-on-disk.js";
import type { Interruption } from "./interruption.js";
import { type BatchJob, toGenerationRequest } from "./job.js";
import type { JobSlots } from "./job-slots.js";
import { type Journal, summariseError } from "./journal.js";
import type { PlannedJob } from "./plan.js";
import { isTaskLimit, isThrottle } from "./rate.js";
import type { Superseded } from "./superseded.js";

/** Submits refused by throttling (never accepted, so never charged) are tried again up to this many times. */
export const MAX_THROTTLED_SUBMITS = 8;
/** The error code of a succeeded job whose files are gone and cannot be downloaded again. */
export const OUTPUT_MISSING_CODE = "OUTPUT_MISSING";
/** Recorded files checked (stat + sha256) at once on resume. */
const DISK_CHECKS_AT_ONCE = 4;

export type JobOutcome = "succeeded" | "failed" | "stopped";

export interface JobRunnerOptions {
  out: string;
  /** File name template of jobs without `name`. */
  name: string;
  retries: number;
  /** Deadline of each job's wait, in ms. */
  timeout?: number;
  /** A resume re-checks the files of succeeded jobs on disk. */
  resume: boolean;
  signal?: AbortSignal;
  journal: Journal;
  clients: BatchClients;
  transport: HttpTransport;
  slots: JobSlots;
  interruption: Interruption;
  emit: OnBatchEvent;
  random: () => number;
  /** Download backoff; default the client's. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Failures of a wait or a download that say nothing against the task: polling and downloading again is safe. */
export function isSafeToRetry(error: unknown): boolean {
  if (error instanceof TaskFailedError) return false;
  if (error instanceof NetworkError || error instanceof RateLimitError) return true;
  if (error instanceof RequestTimeoutError) return true;
  if (error instanceof ApiError || error instanceof DownloadError) return error.retryable;
  return false;
}

/** A submit failure that proves the provider did not accept the job: a throttle, or a request never sent. */
function notAccepted(error: unknown): boolean {
  return isThrottle(error) || (error instanceof NetworkError && error.notSent);
}

/** Carries out planned jobs: `JobRunner` in this process, or a shared queue's workers (`batch --redis`). */
export interface JobExecutor {
  run(planned: PlannedJob): Promise<JobOutcome>;
  keepPaid(entry: Superseded): Promise<JobOutcome>;
}

export class JobRunner implements JobExecutor {
  private readonly diskChecks = pLimit(DISK_CHECKS_AT_ONCE);

  constructor(private readonly options: JobRunnerOptions) {}

  private get stopped(): boolean {
    return this.options.interruption.interrupted;
  }

  /** Carries out one job's plan. */
  async run(planned: PlannedJob): Promise<JobOutcome> {
    const { job } = planned;
    const { journal, emit } = this.options;
    if (planned.action === "skip" && planned.reason === "succeeded" && this.options.resume) {
      const files = planned.previous?.files ?? [];
      const problems = await this.diskChecks(() => checkRecordedFiles(this.options.out, files));
      if (problems.length > 0) return this.redownload(planned, problems);
    }
    if (planned.action === "skip") {
      await rerecord(journal, planned);
      const error = planned.reason === "failed" ? planned.previous?.error : undefined;
      emit({ type: "skip", job, reason: planned.reason, ...(error !== undefined ? { error } : {}) });
      return planned.reason === "succeeded" ? "succeeded" : "failed";
    }
    if (this.stopped) return "stopped";
    return this.options.slots.run(async (): Promise<JobOutcome> => {
      if (this.stopped) return "stopped";
      emit({ type: "start", job, action: planned.action as "submit" | "poll", reason: planned.reason });
      const polled = planned.action === "poll" ? planned.ref : undefined;
      const providerName = polled?.provider ?? job.provider ?? this.options.clients.defaultName;
      let client: Jimeng;
      try {
        client = this.options.clients.client(providerName);
      } catch (error) {
        return this.fail(job, error, undefined);
      }
      let ref: TaskRef;
      if (polled) {
        ref = polled;
        await rerecord(journal, planned);
      } else {
        const submitted = await this.submit(
          job,
          client,
          this.options.clients.provider(providerName)?.endpoint,
        );
        if (typeof submitted === "string") return submitted;
        ref = submitted;
      }
      return this.finish(job, client, ref);
    });
  }

  /** A paid task no job of the file claims any more: polled and saved under its own record. */
  async keepPaid({ job, ref, endpoint, replacedBy }: Superseded): Promise<JobOutcome> {
    const { emit } = this.options;
    emit({ type: "superseded", job, ref, ...(replacedBy !== undefined ? { replacedBy } : {}) });
    if (this.stopped) return "stopped";
    return this.options.slots.run(async (): Promise<JobOutcome> => {
      if (this.stopped) return "stopped";
      emit({ type: "start", job, action: "poll", reason: "submitted" });
      await this.options.journal.submitted(job, ref, endpoint);
      let client: Jimeng;
      try {
        client = this.options.clients.client(ref.provider);
      } catch (error) {
        return this.fail(job, error, ref.taskId);
      }
      return this.finish(job, client, ref);
    });
  }

  /** Submits `job` (journaled before and after), retrying only what provably was not accepted. */
  private async submit(job: BatchJob, client: Jimeng, endpoint?: string): Promise<TaskRef | JobOutcome> {
    const { journal, slots, emit, random, retries } = this.options;
    const request = toGenerationRequest(job);
    let throttles = 0;
    let unsent = 0;
    for (;;) {
      if (this.stopped) return "stopped";
      await journal.submitting(job);
      const ticket = slots.submitting();
      try {
        // No signal: a submit in flight lands, and its task id reaches the journal before we stop.
        const ref = await client.submit(request, {
          onSubmitted: async (accepted) => {
            await journal.submitted(job, accepted, endpoint);
            emit({ type: "submitted", job, ref: accepted });
          },
        });
        slots.submitSucceeded(ticket);
        return ref;
      } catch (error) {
        const refused = isThrottle(error);
        if (isTaskLimit(error)) slots.submitThrottled(ticket);
        if (!notAccepted(error)) return this.fail(job, error, undefined);
        const budgetLeft = refused ? throttles++ < MAX_THROTTLED_SUBMITS : unsent++ < retries;
        if (!budgetLeft) return this.fail(job, error, undefined);
        const attempt = refused ? throttles : unsent;
        const hint = error instanceof RateLimitError ? error.retryAfterMs : undefined;
        const delayMs = retryDelay(attempt - 1, hint, random);
        emit({ type: "retry", job, phase: "submit", attempt, delayMs, error: summariseError(error).error });
        if (!(await this.options.interruption.pause(delayMs))) return "stopped";
      }
    }
  }

  /**
   * Waits for the task and saves its outputs; polls and downloads are safe to repeat. `explain` turns a final
   * failure into the error recorded for the job.
   */
  private async finish(
    job: BatchJob,
    client: Jimeng,
    ref: TaskRef,
    explain: (error: unknown) => unknown = (error) => error,
  ): Promise<JobOutcome> {
    const { signal, emit, random, retries, out } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return "stopped";
      let phase: "wait" | "download" = "wait";
      try {
        const result = await client.waitFor(ref, {
          ...(signal ? { signal } : {}),
          ...(this.options.timeout !== undefined ? { timeout: this.options.timeout } : {}),
          onEvent: this.taskEvents(job),
        });
        phase = "download";
        // At most what the task can have made (its count, or the kind's maximum).
        const { outputs } = capOutputs(result.status, ref).status;
        const saved = await client.saveOutputs(outputs, {
          dir: out,
          name: job.name ?? this.options.name,
          context: { prompt: job.prompt, model: ref.model, taskId: ref.taskId, id: job.id },
          transport: this.options.transport,
          random,
          ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
          ...(signal ? { signal } : {}),
          onProgress: (progress) => emit({ type: "download", job, ref, ...progress }),
        });
        const files = saved.map((file) => ({
          file: path.relative(out, file.file).split(path.sep).join("/"),
          sha256: file.sha256,
          bytes: file.bytes,
        }));
        await this.options.journal.succeeded(job, ref.taskId, files);
        emit({ type: "end", job, status: "succeeded", taskId: ref.taskId, files });
        return "succeeded";
      } catch (error) {
        if (signal?.aborted) return "stopped";
        if (!isSafeToRetry(error) || attempt > retries) return this.fail(job, explain(error), ref.taskId);
        const delayMs = retryDelay(attempt - 1, undefined, random);
        emit({ type: "retry", job, phase, attempt, delayMs, error: summariseError(error).error });
        if (!(await this.options.interruption.pause(delayMs))) return "stopped";
      }
    }
  }

  /** A succeeded job whose files are gone or changed: download its task's outputs again, or say they are lost. */
  private async redownload(planned: PlannedJob, problems: FileProblem[]): Promise<JobOutcome> {
    const { job } = planned;
    const what = describeProblems(problems);
    const ref = planned.previous?.ref;
    const lost = (cause?: unknown) =>
      new JimengError(
        ref === undefined
          ? `${what}, and the journal has no task to download it from again`
          : `${what}, and task ${ref.taskId} could not be downloaded again${cause instanceof Error ? `: ${cause.message}` : ""}`,
        {
          code: OUTPUT_MISSING_CODE,
          hint: "run the job again with --resume --retry-failed (that submits it again, and costs again)",
          ...(cause !== undefined ? { cause } : {}),
        },
      );
    if (ref === undefined) return this.fail(job, lost(), undefined);
    if (this.stopped) return "stopped";
    return this.options.slots.run(async (): Promise<JobOutcome> => {
      if (this.stopped) return "stopped";
      this.options.emit({ type: "start", job, action: "poll", reason: "missing-files" });
      if (planned.matchedFrom !== undefined) {
        await this.options.journal.submitted(job, ref, planned.previous?.endpoint);
      }
      let client: Jimeng;
      try {
        client = this.options.clients.client(ref.provider);
      } catch (error) {
        return this.fail(job, lost(error), ref.taskId);
      }
      return this.finish(job, client, ref, lost);
    });
  }

  private async fail(job: BatchJob, error: unknown, taskId: string | undefined): Promise<JobOutcome> {
    const status = error instanceof TaskFailedError ? error.state : undefined;
    await this.options.journal.failed(job, error, {
      ...(taskId !== undefined ? { taskId } : {}),
      ...(status !== undefined ? { status } : {}),
    });
    this.options.emit({
      type: "end",
      job,
      status: status ?? "failed",
      ...(taskId !== undefined ? { taskId } : {}),
      files: [],
      error: summariseError(error).error,
    });
    return "failed";
  }

  private taskEvents(job: BatchJob) {
    return (event: TaskEvent) => {
      if (event.type === "status") {
        this.options.emit({
          type: "status",
          job,
          ref: event.ref,
          status: event.status.status,
          elapsedMs: event.elapsedMs,
        });
      } else if (event.type === "retry" && isTaskLimit(event.error)) {
        this.options.slots.throttled();
      }
    };
  }
}

/**
 * When the planner matched a journal entry recorded under another id (shifted `line-N` ids, a renamed job),
 * the state is written again under the job's own id, so the report and the next resume find it there.
 */
export async function rerecord(journal: Journal, planned: PlannedJob): Promise<void> {
  const previous = planned.previous;
  if (planned.matchedFrom === undefined || previous === undefined) return;
  const base = { jobId: planned.job.id, hash: planned.job.hash, at: journal.stamp() };
  const taskId = previous.ref?.taskId;
  if (previous.status !== "submitting" && previous.ref) {
    await journal.submitted(planned.job, previous.ref, previous.endpoint);
  }
  switch (previous.status) {
    case "succeeded":
      await journal.append({
        type: "succeeded",
        ...base,
        files: previous.files ?? [],
        ...(taskId !== undefined ? { taskId } : {}),
      });
      return;
    case "failed":
      await journal.append({
        type: "failed",
        ...base,
        error: previous.error ?? { code: "UNKNOWN", message: "failed in an earlier run" },
        retryable: previous.retryable ?? false,
        ...(taskId !== undefined ? { taskId } : {}),
        ...(previous.taskStatus !== undefined ? { status: previous.taskStatus } : {}),
      });
      return;
    default:
      return;
  }
}
