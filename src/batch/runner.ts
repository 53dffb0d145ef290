/**
 * The batch runner: validated jobs → resume plan → p-limit (with AIMD on throttling) and a hard request cap per
 * provider (submits and polls draw from it) → submit, journaled before it is sent and again as soon as the
 * provider accepts it → wait → download into `out` → `succeeded` with files and sha256, or `failed` with the
 * error. The journal is the only state: a run killed at any moment resumes from it without paying twice for
 * a task whose id was recorded.
 *
 * Interrupts: the first abort stops submitting; submits already sent are not aborted (their task ids still
 * reach the journal through `onSubmitted`), waits and downloads are; the run resolves with an `interrupted`
 * report and every job that was in flight stays `submitted` for `--resume`.
 */
import { rename, stat } from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";
import {
  AbortError,
  ApiError,
  CONFIG_ERROR_CODE,
  DownloadError,
  JimengError,
  NetworkError,
  type ProviderName,
  RateLimitError,
  RequestTimeoutError,
  ValidationError,
} from "../errors.js";
import { refuseSymlink, writeFileSafely } from "../fs/safe-write.js";
import { retryDelay } from "../http/retry.js";
import { sleep as realSleep } from "../http/sleep.js";
import { HttpTransport, type RetryEvent } from "../http/transport.js";
import { type DownloadedFile, downloadOutputs } from "../media/download.js";
import type { Provider, TaskRef, TaskState } from "../providers/types.js";
import { Jimeng } from "../tasks/client.js";
import { TaskFailedError } from "../tasks/errors.js";
import type { TaskEvent } from "../tasks/events.js";
import { capOutputs } from "../tasks/output-cap.js";
import { checkRecordedFiles, describeProblems, type FileProblem } from "./files-on-disk.js";
import { type BatchJob, toGenerationRequest } from "./job.js";
import {
  JOURNAL_FILE,
  Journal,
  type JournalError,
  type JournalFileEntry,
  type JournalOptions,
  type JournalState,
  journalPath,
  replayJournal,
  summariseError,
  withoutCredentials,
} from "./journal.js";
import { lockOutput } from "./lock.js";
import { type PlannedJob, type PlanReason, planResume, type ResumePlan } from "./plan.js";
import {
  AimdConcurrency,
  type ConcurrencyChange,
  isTaskLimit,
  isTaskLimitCode,
  isThrottle,
  RequestRate,
  withRateLimit,
} from "./rate.js";
import { type BatchReport, buildReport } from "./report.js";

export const DEFAULT_BATCH_CONCURRENCY = 4;
export const DEFAULT_BATCH_RETRIES = 2;
/** Default output name template of batch files: stable across runs, so CI artifacts keep their names. */
export const DEFAULT_BATCH_NAME = "{id}-{index}";
/** Submits refused by throttling (never accepted, so never charged) are tried again up to this many times. */
export const MAX_THROTTLED_SUBMITS = 8;
export const REPORT_FILE = "report.json";
/** The error code of a succeeded job whose files are gone and cannot be downloaded again. */
export const OUTPUT_MISSING_CODE = "OUTPUT_MISSING";
/** Recorded files checked (stat + sha256) at once on resume. */
const DISK_CHECKS_AT_ONCE = 4;

/** What the runner reports while it works; the CLI turns these into bars or lines. */
export type BatchEvent =
  /** The plan, before anything is sent. `uncertain`: jobs whose earlier submit may or may not have landed. */
  | { type: "plan"; plan: ResumePlan; total: number; archivedJournal?: string; skippedLines: number[] }
  /** A job left alone: already succeeded, failed earlier (without `retryFailed`), or uncertain and not resubmitted. */
  | { type: "skip"; job: BatchJob; reason: PlanReason }
  /** A job took a concurrency slot: it will submit, or poll the task an earlier run submitted. */
  | { type: "start"; job: BatchJob; action: "submit" | "poll"; reason: PlanReason }
  | { type: "submitted"; job: BatchJob; ref: TaskRef }
  | { type: "status"; job: BatchJob; ref: TaskRef; status: TaskState; elapsedMs: number }
  | { type: "download"; job: BatchJob; ref: TaskRef; index: number; bytes: number; total?: number }
  /** A failure safe to retry; the job goes on after `delayMs`. */
  | {
      type: "retry";
      job: BatchJob;
      phase: "submit" | "wait" | "download";
      attempt: number;
      delayMs: number;
      error: JournalError;
    }
  /** The provider throttled the batch for the first time; the effective concurrency dropped. Sent once. */
  | { type: "throttled"; from: number; to: number }
  /** Every change of the effective concurrency (down on throttling, back up on success). */
  | { type: "concurrency"; change: ConcurrencyChange }
  /** A job ended in this run. */
  | {
      type: "end";
      job: BatchJob;
      status: "succeeded" | "failed" | "expired" | "cancelled";
      taskId?: string;
      files: JournalFileEntry[];
      error?: JournalError;
    }
  /**
   * A task the journal records as paid and unfinished that no job of the file claims any more (the job changed
   * or left the file): it is polled and saved under its own record instead of being dropped.
   */
  | { type: "superseded"; job: BatchJob; ref: TaskRef; replacedBy?: string }
  /** The first abort: no more submits; waits and downloads stop. */
  | { type: "interrupted" };

export type OnBatchEvent = (event: BatchEvent) => void;

export interface RunBatchOptions {
  /** Validated jobs (`loadBatch`, `validateBatch`, `validateJobs`). */
  jobs: readonly BatchJob[];
  /** The provider for jobs that do not name one. */
  provider: Provider;
  /** Providers for jobs whose `provider` field names another one. */
  providers?: Partial<Record<ProviderName, Provider>>;
  /**
   * Builds the task client over a provider (already wrapped by the `qps` request cap). Default
   * `(provider) => new Jimeng({ provider })`; pass one to inject a clock, sleep or media layer.
   */
  jimeng?: (provider: Provider) => Jimeng;
  /** Output folder: files, `.jimeng/journal.jsonl` and `report.json`. */
  out: string;
  /** Jobs in flight at once (default 4); lowered automatically while the provider throttles. */
  concurrency?: number;
  /** Submits + polls per second, per provider. */
  qps?: number;
  /** Per job, for failures safe to retry (polls, downloads). Default 2. */
  retries?: number;
  /** Continue from the journal in `out` (default false: a fresh run; an existing journal is archived). */
  resume?: boolean;
  /** With `resume`: submit jobs that failed before. */
  retryFailed?: boolean;
  /** With `resume`: submit again jobs whose earlier submit is uncertain (default true). */
  resubmitUncertain?: boolean;
  /** Deadline of each job's wait, in ms. Default: the task engine's (10 min images, 30 min videos). */
  timeout?: number;
  /** File name template for jobs without `name` (default `{id}-{index}`). */
  name?: string;
  signal?: AbortSignal;
  onEvent?: OnBatchEvent;
  /**
   * Throttling the providers' transports absorbed by retrying (pass `feed.onRetry` as each provider's
   * `onRetry`), so the concurrency drops before any job sees a throttle error.
   */
  throttles?: ThrottleFeed;
  /**
   * Hold `<out>/.jimeng/lock` for the whole run (default true). Pass false only when the caller already holds
   * it (`lockOutput(out)`), e.g. to lock before a long validation.
   */
  lock?: boolean;
  /**
   * With `resume`: refuse (default true) when a recorded task was submitted to another endpoint than its
   * provider's now. Off for a throwaway emulator, whose address changes with every start.
   */
  checkEndpoints?: boolean;
  /** Write `<out>/report.json` (default true). */
  writeReport?: boolean;
  journal?: JournalOptions;
  /**
   * Applied to every byte written to the journal and the report (the CLI removes its secrets here, in all
   * their encoded forms, since a server may echo one in an error message).
   */
  redact?: (text: string) => string;
  /**
   * Injection points for tests and benchmarks: backoff sleeps (abortable), jitter, the report's timestamps,
   * and the `qps` request cap's monotonic clock (ms).
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  clock?: () => number;
  random?: () => number;
  now?: () => Date;
}

export interface BatchRunResult {
  report: BatchReport;
  plan: ResumePlan;
  interrupted: boolean;
  journalFile: string;
  /** `<out>/report.json`, when written. */
  reportFile?: string;
}

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

type JobOutcome = "succeeded" | "failed" | "stopped";

/**
 * Runs the batch holding `<out>/.jimeng/lock` (unless `lock: false`): a second run on the same folder throws
 * BatchLockedError before it reads the journal or sends anything.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchRunResult> {
  validateRunOptions(options);
  const lock = options.lock === false ? undefined : await lockOutput(options.out);
  try {
    return await runLocked(options);
  } finally {
    await lock?.release();
  }
}

function validateRunOptions(options: RunBatchOptions): void {
  const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError([
      { path: "concurrency", message: `must be a whole number ≥ 1, got ${concurrency}` },
    ]);
  }
  const retries = options.retries ?? DEFAULT_BATCH_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new ValidationError([{ path: "retries", message: `must be a whole number ≥ 0, got ${retries}` }]);
  }
  if (options.qps !== undefined && !(options.qps > 0 && Number.isFinite(options.qps))) {
    throw new ValidationError([{ path: "qps", message: `must be a positive number, got ${options.qps}` }]);
  }
}

async function runLocked(options: RunBatchOptions): Promise<BatchRunResult> {
  const { jobs, out, signal, onEvent } = options;
  const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  const retries = options.retries ?? DEFAULT_BATCH_RETRIES;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  const emit = (event: BatchEvent) => onEvent?.(event);
  const startedAt = now();

  // 0. Nothing is read or written through a symlink planted at the journal's or the report's name.
  const journalFile = journalPath(out);
  const reportFile = path.join(out, REPORT_FILE);
  await refuseSymlink(path.dirname(journalFile), "journal folder");
  await refuseSymlink(journalFile, "journal");
  if (options.writeReport !== false) await refuseSymlink(reportFile, "report");

  // 1. The plan: from the journal with `resume`; a fresh run archives an earlier journal and submits everything.
  let archivedJournal: string | undefined;
  let skippedLines: number[] = [];
  let plan: ResumePlan;
  let superseded: Superseded[] = [];
  if (options.resume) {
    const replayed = await replayJournal(out);
    skippedLines = replayed.skippedLines;
    plan = planResume(jobs, replayed.state, {
      retryFailed: options.retryFailed ?? false,
      resubmitUncertain: options.resubmitUncertain ?? true,
    });
    superseded = supersededTasks(jobs, plan, replayed.state);
  } else {
    archivedJournal = await archiveJournal(journalFile, startedAt);
    plan = planResume(jobs, new Map());
  }
  emit({
    type: "plan",
    plan,
    total: jobs.length,
    skippedLines,
    ...(archivedJournal !== undefined ? { archivedJournal } : {}),
  });

  const providerNamed = (name: ProviderName): Provider | undefined =>
    name === options.provider.name ? options.provider : options.providers?.[name];
  if (options.resume) checkRecordedProviders(plan, providerNamed, options.checkEndpoints ?? true);

  const journal = await Journal.open(out, {
    ...options.journal,
    ...(options.redact ? { redact: options.redact } : {}),
  });
  const transport = new HttpTransport();
  const clients = new Map<ProviderName, Jimeng>();
  const makeClient = options.jimeng ?? ((provider: Provider) => new Jimeng({ provider }));
  /** The client of a provider: a recorded task's own provider, else the job's, else the batch's default. */
  const clientFor = (name: ProviderName): Jimeng => {
    let client = clients.get(name);
    if (client) return client;
    const provider = providerNamed(name);
    if (!provider) {
      throw new ValidationError([
        { path: "provider", message: `no ${name} provider is configured for this batch` },
      ]);
    }
    const limited =
      options.qps !== undefined
        ? withRateLimit(
            provider,
            new RequestRate({
              perSecond: options.qps,
              sleep,
              ...(options.clock ? { clock: options.clock } : {}),
            }),
          )
        : provider;
    client = makeClient(limited);
    clients.set(name, client);
    return client;
  };

  const limit = pLimit(concurrency);
  const diskChecks = pLimit(DISK_CHECKS_AT_ONCE);
  let throttleReported = false;
  const aimd = new AimdConcurrency({
    max: concurrency,
    target: limit,
    onChange: (change) => {
      emit({ type: "concurrency", change });
      if (change.reason === "throttled" && !throttleReported) {
        throttleReported = true;
        emit({ type: "throttled", from: change.from, to: change.to });
      }
    },
  });

  // A throttle seen anywhere lowers the limit once per round: the ticket is renewed only when a submit
  // succeeds after it, so a burst of refusals of requests already under way counts as one.
  let throttleTicket = aimd.start();
  const throttled = () => {
    aimd.throttled(throttleTicket);
  };
  const unsubscribe = options.throttles?.subscribe(throttled);

  let interrupted = signal?.aborted === true;
  const onAbort = () => {
    if (interrupted) return;
    interrupted = true;
    emit({ type: "interrupted" });
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (interrupted) emit({ type: "interrupted" });

  /** Backoff that ends early (false) when the run is interrupted. */
  const pause = async (ms: number): Promise<boolean> => {
    try {
      await sleep(ms, signal);
      return !interrupted;
    } catch (error) {
      if (error instanceof AbortError || signal?.aborted) return false;
      throw error;
    }
  };

  const fail = async (job: BatchJob, error: unknown, taskId: string | undefined): Promise<JobOutcome> => {
    const status = error instanceof TaskFailedError ? error.state : undefined;
    await journal.failed(job, error, {
      ...(taskId !== undefined ? { taskId } : {}),
      ...(status !== undefined ? { status } : {}),
    });
    emit({
      type: "end",
      job,
      status: status ?? "failed",
      ...(taskId !== undefined ? { taskId } : {}),
      files: [],
      error: summariseError(error).error,
    });
    return "failed";
  };

  const taskEvents = (job: BatchJob) => (event: TaskEvent) => {
    if (event.type === "status") {
      emit({
        type: "status",
        job,
        ref: event.ref,
        status: event.status.status,
        elapsedMs: event.elapsedMs,
      });
    } else if (event.type === "retry" && isTaskLimit(event.error)) {
      throttled();
    }
  };

  /** Submits `job` (journaled before and after), retrying only what provably was not accepted. */
  const submit = async (job: BatchJob, client: Jimeng, endpoint?: string): Promise<TaskRef | JobOutcome> => {
    const request = toGenerationRequest(job);
    let throttles = 0;
    let unsent = 0;
    for (;;) {
      if (interrupted) return "stopped";
      await journal.submitting(job);
      const ticket = aimd.start();
      try {
        // No signal: a submit in flight lands, and its task id reaches the journal before we stop.
        const ref = await client.submit(request, {
          onSubmitted: async (accepted) => {
            await journal.submitted(job, accepted, endpoint);
            emit({ type: "submitted", job, ref: accepted });
          },
        });
        aimd.succeeded(ticket);
        throttleTicket = aimd.start();
        return ref;
      } catch (error) {
        const refused = isThrottle(error);
        if (isTaskLimit(error)) aimd.throttled(ticket);
        if (!notAccepted(error)) return fail(job, error, undefined);
        const budgetLeft = refused ? throttles++ < MAX_THROTTLED_SUBMITS : unsent++ < retries;
        if (!budgetLeft) return fail(job, error, undefined);
        const attempt = refused ? throttles : unsent;
        const hint = error instanceof RateLimitError ? error.retryAfterMs : undefined;
        const delayMs = retryDelay(attempt - 1, hint, random);
        emit({ type: "retry", job, phase: "submit", attempt, delayMs, error: summariseError(error).error });
        if (!(await pause(delayMs))) return "stopped";
      }
    }
  };

  /**
   * Waits for the task and saves its outputs; polls and downloads are safe to repeat. `explain` turns a final
   * failure into the error recorded for the job.
   */
  const finish = async (
    job: BatchJob,
    client: Jimeng,
    ref: TaskRef,
    explain: (error: unknown) => unknown = (error) => error,
  ): Promise<JobOutcome> => {
    for (let attempt = 1; ; attempt++) {
      if (interrupted) return "stopped";
      let phase: "wait" | "download" = "wait";
      try {
        const result = await client.waitFor(ref, {
          ...(signal ? { signal } : {}),
          ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
          onEvent: taskEvents(job),
        });
        phase = "download";
        // At most what the task can have made (its count, or the kind's maximum).
        const { outputs } = capOutputs(result.status, ref).status;
        const saved: DownloadedFile[] = await downloadOutputs(outputs, {
          dir: out,
          name: job.name ?? options.name ?? DEFAULT_BATCH_NAME,
          context: { prompt: job.prompt, model: ref.model, taskId: ref.taskId, id: job.id },
          transport,
          sleep,
          random,
          ...(signal ? { signal } : {}),
          onProgress: (progress) => emit({ type: "download", job, ref, ...progress }),
        });
        const files = saved.map((file) => ({
          file: path.relative(out, file.file).split(path.sep).join("/"),
          sha256: file.sha256,
          bytes: file.bytes,
        }));
        await journal.succeeded(job, ref.taskId, files);
        emit({ type: "end", job, status: "succeeded", taskId: ref.taskId, files });
        return "succeeded";
      } catch (error) {
        if (signal?.aborted) return "stopped";
        if (!isSafeToRetry(error) || attempt > retries) return fail(job, explain(error), ref.taskId);
        const delayMs = retryDelay(attempt - 1, undefined, random);
        emit({ type: "retry", job, phase, attempt, delayMs, error: summariseError(error).error });
        if (!(await pause(delayMs))) return "stopped";
      }
    }
  };

  /** A succeeded job whose files are gone or changed: download its task's outputs again, or say they are lost. */
  const redownload = async (planned: PlannedJob, problems: FileProblem[]): Promise<JobOutcome> => {
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
    if (ref === undefined) return fail(job, lost(), undefined);
    if (interrupted) return "stopped";
    return limit(async (): Promise<JobOutcome> => {
      if (interrupted) return "stopped";
      emit({ type: "start", job, action: "poll", reason: "missing-files" });
      if (planned.matchedFrom !== undefined) await journal.submitted(job, ref, planned.previous?.endpoint);
      let client: Jimeng;
      try {
        client = clientFor(ref.provider);
      } catch (error) {
        return fail(job, lost(error), ref.taskId);
      }
      return finish(job, client, ref, lost);
    });
  };

  const runJob = async (planned: PlannedJob): Promise<JobOutcome> => {
    const { job } = planned;
    if (planned.action === "skip" && planned.reason === "succeeded" && options.resume) {
      const files = planned.previous?.files ?? [];
      const problems = await diskChecks(() => checkRecordedFiles(out, files));
      if (problems.length > 0) return redownload(planned, problems);
    }
    if (planned.action === "skip") {
      await rerecord(journal, planned);
      emit({ type: "skip", job, reason: planned.reason });
      return planned.reason === "succeeded" ? "succeeded" : "failed";
    }
    if (interrupted) return "stopped";
    return limit(async (): Promise<JobOutcome> => {
      if (interrupted) return "stopped";
      emit({ type: "start", job, action: planned.action as "submit" | "poll", reason: planned.reason });
      const providerName =
        planned.action === "poll" && planned.ref
          ? planned.ref.provider
          : (job.provider ?? options.provider.name);
      let client: Jimeng;
      try {
        client = clientFor(providerName);
      } catch (error) {
        return fail(job, error, undefined);
      }
      let ref: TaskRef;
      if (planned.action === "poll" && planned.ref) {
        ref = planned.ref;
        await rerecord(journal, planned);
      } else {
        const submitted = await submit(job, client, providerNamed(providerName)?.endpoint);
        if (typeof submitted === "string") return submitted;
        ref = submitted;
      }
      return finish(job, client, ref);
    });
  };

  // Every job settles before the journal closes, even when one of them hit an unexpected error.
  /** A paid task no job of the file claims any more: polled and saved under its own record. */
  const keepPaid = async ({ job, ref, endpoint, replacedBy }: Superseded): Promise<JobOutcome> => {
    emit({ type: "superseded", job, ref, ...(replacedBy !== undefined ? { replacedBy } : {}) });
    if (interrupted) return "stopped";
    return limit(async (): Promise<JobOutcome> => {
      if (interrupted) return "stopped";
      emit({ type: "start", job, action: "poll", reason: "submitted" });
      await journal.submitted(job, ref, endpoint);
      let client: Jimeng;
      try {
        client = clientFor(ref.provider);
      } catch (error) {
        return fail(job, error, ref.taskId);
      }
      return finish(job, client, ref);
    });
  };

  const settled = await Promise.allSettled([...plan.jobs.map(runJob), ...superseded.map(keepPaid)]);
  signal?.removeEventListener("abort", onAbort);
  unsubscribe?.();
  const finishedAt = now();
  await journal.close();
  // The providers are the caller's to close (they may serve more than this batch).
  await transport.close();
  const crash = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (crash) throw crash.reason;

  const { state } = await replayJournal(out);
  const report = buildReport({ jobs, state, startedAt, finishedAt, interrupted });
  if (superseded.length > 0) {
    const kept = buildReport({ jobs: superseded.map((entry) => entry.job), state, startedAt, finishedAt });
    report.superseded = kept.jobs.map((entry, index) => {
      const replacedBy = superseded[index]?.replacedBy;
      return replacedBy !== undefined ? { ...entry, replacedBy } : entry;
    });
  }
  const result: BatchRunResult = { report, plan, interrupted, journalFile };
  if (options.writeReport ?? true) {
    const text = `${JSON.stringify(report, null, 2)}\n`;
    await writeFileSafely(reportFile, options.redact ? options.redact(text) : text, { what: "report" });
    result.reportFile = reportFile;
  }
  return result;
}

interface Superseded {
  /** A stand-in job under which the task's result is journaled and its files are named. */
  job: BatchJob;
  ref: TaskRef;
  endpoint?: string;
  /** The id of the (changed) job of the file that replaced it, when there is one. */
  replacedBy?: string;
}

/**
 * Tasks the journal records as submitted (so paid, and maybe still running) that no job of the file claims any
 * more: the job changed (another content hash), or left the file. They are polled and saved under their
 * own record: the old id, or `<id>~<old hash>` when the changed job still uses the id.
 */
function supersededTasks(jobs: readonly BatchJob[], plan: ResumePlan, state: JournalState): Superseded[] {
  const claimed = new Set<string>();
  for (const planned of plan.jobs) {
    if (planned.previous !== undefined && planned.reason !== "changed") claimed.add(planned.previous.jobId);
  }
  const ids = new Set(jobs.map((job) => job.id));
  const found: Superseded[] = [];
  for (const entry of state.values()) {
    if (claimed.has(entry.jobId) || entry.status !== "submitted" || entry.ref === undefined) continue;
    const replaced = ids.has(entry.jobId);
    const id = replaced ? `${entry.jobId}~${entry.hash.slice(0, 8)}` : entry.jobId;
    const job: BatchJob = {
      id,
      hash: entry.hash,
      kind: entry.ref.kind,
      prompt: "",
      source: { file: JOURNAL_FILE, line: 0 },
    };
    found.push({
      job,
      ref: entry.ref,
      ...(entry.endpoint !== undefined ? { endpoint: entry.endpoint } : {}),
      ...(replaced ? { replacedBy: entry.jobId } : {}),
    });
  }
  return found;
}

/**
 * A recorded task can only be polled through the provider (and endpoint) that accepted it: through another
 * one the poll fails, and submitting the job again would pay twice. Refuses the resume, before anything is
 * sent, when such a provider is not configured for this run.
 */
function checkRecordedProviders(
  plan: ResumePlan,
  providerNamed: (name: ProviderName) => Provider | undefined,
  checkEndpoints: boolean,
): void {
  const missing = new Map<ProviderName, string[]>();
  const moved: string[] = [];
  for (const planned of plan.jobs) {
    const ref = planned.ref;
    if (planned.action !== "poll" || ref === undefined) continue;
    const provider = providerNamed(ref.provider);
    if (provider === undefined) {
      const ids = missing.get(ref.provider) ?? [];
      ids.push(planned.job.id);
      missing.set(ref.provider, ids);
      continue;
    }
    const recorded = planned.previous?.endpoint;
    const current = provider.endpoint === undefined ? undefined : withoutCredentials(provider.endpoint);
    if (checkEndpoints && recorded !== undefined && current !== undefined && recorded !== current) {
      moved.push(`${planned.job.id} (task ${ref.taskId} at ${recorded}, this run uses ${current})`);
    }
  }
  const problems: string[] = [];
  for (const [name, ids] of missing) {
    problems.push(
      `${ids.length} recorded task(s) were submitted through the ${name} provider, which has no credentials in this run (${preview(ids)})`,
    );
  }
  if (moved.length > 0) {
    problems.push(`${moved.length} recorded task(s) were submitted to another endpoint: ${preview(moved)}`);
  }
  if (problems.length === 0) return;
  throw new JimengError(`cannot resume: ${problems.join("; ")}. Nothing was sent.`, {
    code: CONFIG_ERROR_CODE,
    hint: "configure that provider's credentials and endpoint as in the run that submitted them, then resume again; polling elsewhere fails, and submitting again would pay twice",
  });
}

function preview(items: readonly string[]): string {
  return items.length <= 3
    ? items.join(", ")
    : `${items.slice(0, 3).join(", ")} and ${items.length - 3} more`;
}

/**
 * When the planner matched a journal entry recorded under another id (shifted `line-N` ids, a renamed job),
 * the state is written again under the job's own id, so the report and the next resume find it there.
 */
async function rerecord(journal: Journal, planned: PlannedJob): Promise<void> {
  const previous = planned.previous;
  if (planned.matchedFrom === undefined || previous === undefined) return;
  const base = { jobId: planned.job.id, hash: planned.job.hash, at: new Date().toISOString() };
  const taskId = previous.ref?.taskId;
  switch (previous.status) {
    case "submitted":
      if (previous.ref) await journal.submitted(planned.job, previous.ref, previous.endpoint);
      return;
    case "succeeded":
      if (previous.ref) await journal.submitted(planned.job, previous.ref, previous.endpoint);
      await journal.append({
        type: "succeeded",
        ...base,
        files: previous.files ?? [],
        ...(taskId !== undefined ? { taskId } : {}),
      });
      return;
    case "failed":
      if (previous.ref) await journal.submitted(planned.job, previous.ref, previous.endpoint);
      await journal.append({
        type: "failed",
        ...base,
        error: previous.error ?? { code: "UNKNOWN", message: "failed in an earlier run" },
        retryable: previous.retryable ?? false,
        ...(taskId !== undefined ? { taskId } : {}),
        ...(previous.taskStatus !== undefined ? { status: previous.taskStatus } : {}),
      });
      return;
    case "submitting":
      return;
  }
}

/** Moves an earlier run's journal aside (a fresh run starts a new one); returns where it went. */
async function archiveJournal(file: string, at: Date): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size === 0) return undefined;
  const stamp = at.toISOString().replace(/[:.]/g, "-");
  const target = path.join(path.dirname(file), `journal-${stamp}.jsonl`);
  await rename(file, target);
  return target;
}
