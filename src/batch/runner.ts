/**
 * The batch runner: validated jobs → resume plan → job slots (AIMD on throttling) and a hard request cap per
 * provider (submits and polls draw from it) → each job's life (`JobRunner`) → the report, written in job order
 * as jobs finish (`ReportWriter`). The journal is the only state: a run killed at any moment resumes from it
 * without paying twice for a task whose id was recorded.
 *
 * Memory is flat in the number of jobs for a streamed source: jobs are read with backpressure (at most a few
 * per slot ahead), only the jobs in flight have state in memory, and finished entries go to disk in job order.
 * A resume also holds the journal's state, one small record per journaled job.
 *
 * Interrupts: the first abort stops submitting; submits already sent are not aborted (their task ids still
 * reach the journal through `onSubmitted`), waits and downloads are; the run resolves with an `interrupted`
 * report and every job that was in flight stays `submitted` for `--resume`.
 */
import { rename, stat } from "node:fs/promises";
import path from "node:path";
import type { ProviderName } from "../errors.js";
import { ValidationError } from "../errors.js";
import { refuseSymlink } from "../fs/safe-write.js";
import { sleep as realSleep } from "../http/sleep.js";
import { HttpTransport } from "../http/transport.js";
import type { Provider } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import { BatchClients } from "./clients.js";
import type { OnBatchEvent } from "./events.js";
import { Interruption } from "./interruption.js";
import { type JobExecutor, JobRunner, type JobRunnerOptions } from "./job-runner.js";
import { JobSlots } from "./job-slots.js";
import { type JobSource, readJobs } from "./job-source.js";
import {
  applyRecord,
  type JobJournalState,
  Journal,
  type JournalOptions,
  type JournalRecord,
  type JournalState,
  journalPath,
  replayJournal,
} from "./journal.js";
import { lockOutput } from "./lock.js";
import { type ResumePlan, ResumePlanner } from "./plan.js";
import { RecordedProviderCheck } from "./recorded-providers.js";
import { type BatchReport, reportEntry } from "./report.js";
import { type ReportSummary, ReportWriter } from "./report-writer.js";
import { forEachBounded } from "./scheduler.js";
import { type Superseded, supersededTasks } from "./superseded.js";
import type { ThrottleFeed } from "./throttle-feed.js";

export type { BatchEvent, OnBatchEvent } from "./events.js";
export { ThrottleFeed } from "./throttle-feed.js";

export const DEFAULT_BATCH_CONCURRENCY = 4;
export const DEFAULT_BATCH_RETRIES = 2;
/** Default output name template of batch files: stable across runs, so CI artifacts keep their names. */
export const DEFAULT_BATCH_NAME = "{id}-{index}";
export const REPORT_FILE = "report.json";
/** Finished report entries held for a job before them still running, at most: past it, no new job starts. */
const REORDER_WINDOW = 4096;

export interface RunBatchOptions {
  /**
   * Validated jobs (`loadBatch`, `validateBatch`, `validateJobs`), or a function that reads them afresh on
   * each call (`batchFileJobs(file)` for a validated file): the runner reads them in order once to plan (three
   * times to resume) and once more to run, holding only the jobs in flight.
   */
  jobs: JobSource;
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
  /**
   * Runs each job somewhere else than in this process (`batch --redis`: a shared queue's workers), given
   * what the in-process runner would get. The plan, journal, report and events stay the runner's.
   */
  executor?: (context: JobRunnerOptions) => JobExecutor;
  /** Write `<out>/report.json` (default true). */
  writeReport?: boolean;
  /**
   * Keep every job's plan decision and report entry in the result (`plan.jobs`, `report.jobs`). Default: true
   * for a list of jobs, false for a function source, whose run keeps memory flat in the number of jobs; its
   * entries are in `report.json` and `reportText()`.
   */
  retain?: boolean;
  journal?: JournalOptions;
  /**
   * Applied to every byte written to the journal and the report (the CLI removes its secrets here, in all
   * their encoded forms, since a server may echo one in an error message).
   */
  redact?: (text: string) => string;
  /**
   * Injection points for tests and benchmarks: backoff sleeps (abortable), jitter, the report's and the
   * journal's timestamps, and the `qps` request cap's monotonic clock (ms).
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
  /** The whole report as JSON text (`JSON.stringify(report, null, indent)` with every entry), streamed. */
  reportText(indent?: number): AsyncIterable<string>;
}

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

interface PlannedRun {
  planner: ResumePlanner;
  plan: ResumePlan;
  superseded: Superseded[];
}

async function runLocked(options: RunBatchOptions): Promise<BatchRunResult> {
  const { out } = options;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? realSleep;
  const emit: OnBatchEvent = (event) => options.onEvent?.(event);
  const retain = options.retain ?? typeof options.jobs !== "function";
  const startedAt = now();

  // Nothing is read or written through a symlink planted at the journal's or the report's name.
  const journalFile = journalPath(out);
  const reportFile = path.join(out, REPORT_FILE);
  await refuseSymlink(path.dirname(journalFile), "journal folder");
  await refuseSymlink(journalFile, "journal");
  if (options.writeReport !== false) await refuseSymlink(reportFile, "report");

  const clients = new BatchClients({
    provider: options.provider,
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.jimeng ? { jimeng: options.jimeng } : {}),
    ...(options.qps !== undefined ? { qps: options.qps } : {}),
    sleep,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { planner, plan, superseded } = await planRun(options, clients, retain, startedAt, emit);

  const inFlight = new InFlightStates();
  const journal = await Journal.open(out, {
    now,
    ...options.journal,
    ...(options.redact ? { redact: options.redact } : {}),
    onRecord: (record) => inFlight.apply(record),
  });
  // The providers are the caller's to close (they may serve more than this batch); the rest is closed here,
  // whatever happens.
  const transport = new HttpTransport();
  const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  const slots = new JobSlots(concurrency, emit, options.throttles);
  const interruption = new Interruption(options.signal, emit, sleep);
  let report: ReportWriter | undefined;
  try {
    const writer = await ReportWriter.open(out, {
      retain,
      ...(options.redact ? { redact: options.redact } : {}),
    });
    report = writer;
    const context: JobRunnerOptions = {
      out,
      name: options.name ?? DEFAULT_BATCH_NAME,
      retries: options.retries ?? DEFAULT_BATCH_RETRIES,
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      resume: options.resume ?? false,
      ...(options.signal ? { signal: options.signal } : {}),
      journal,
      clients,
      transport,
      slots,
      interruption,
      emit,
      random: options.random ?? Math.random,
      ...(options.sleep ? { sleep: options.sleep } : {}),
    };
    const runner = options.executor ? options.executor(context) : new JobRunner(context);

    const kept = await runEveryJob({
      jobs: options.jobs,
      planner,
      superseded,
      runner,
      writer,
      inFlight,
      interruption,
      concurrency,
    });
    const summary: ReportSummary = {
      interrupted: interruption.interrupted,
      startedAt,
      finishedAt: now(),
      ...(superseded.length > 0 ? { superseded: kept } : {}),
    };
    await writer.close();
    const result: BatchRunResult = {
      report: writer.report(summary),
      plan,
      interrupted: interruption.interrupted,
      journalFile,
      reportText: (indent) => writer.chunks(summary, indent),
    };
    if (options.writeReport ?? true) {
      await writer.writeFile(reportFile, summary);
      result.reportFile = reportFile;
    }
    return result;
  } finally {
    interruption.dispose();
    slots.dispose();
    await report?.close();
    await journal.close();
    await transport.close();
  }
}

interface RunEveryJob {
  jobs: JobSource;
  planner: ResumePlanner;
  superseded: readonly Superseded[];
  runner: JobExecutor;
  writer: ReportWriter;
  inFlight: InFlightStates;
  interruption: Interruption;
  concurrency: number;
}

/**
 * Runs the file's jobs as they are read (and the superseded paid tasks beside them), each report entry to the
 * writer as its job ends; returns the superseded tasks' entries. After an unexpected error nothing new starts;
 * it is thrown once everything started has settled.
 */
async function runEveryJob(run: RunEveryJob): Promise<NonNullable<BatchReport["superseded"]>> {
  const { planner, runner, writer, inFlight, interruption } = run;
  const keeping = Promise.allSettled(
    run.superseded.map(async (entry) => {
      inFlight.track(entry.job.id, undefined);
      await runner.keepPaid(entry);
      const kept = reportEntry(entry.job, inFlight.release(entry.job.id));
      return entry.replacedBy !== undefined ? { ...kept, replacedBy: entry.replacedBy } : kept;
    }),
  );
  let crash: { error: unknown } | undefined;
  try {
    await forEachBounded(
      readJobs(run.jobs),
      async (job, position) => {
        inFlight.track(job.id, planner.stateOf(job.id));
        try {
          await runner.run(planner.decide(job));
        } catch (error) {
          interruption.halt();
          throw error;
        }
        await writer.add(position, reportEntry(job, inFlight.release(job.id)));
      },
      // A few jobs ahead per slot keep the slots busy; the window bounds entries held out of order.
      { maxOpen: 2 * run.concurrency + 8, ready: (position) => position - writer.written < REORDER_WINDOW },
    );
  } catch (error) {
    crash = { error };
  }
  const kept = await keeping;
  for (const outcome of kept) if (outcome.status === "rejected") crash ??= { error: outcome.reason };
  if (crash !== undefined) throw crash.error;
  return kept.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
}

/**
 * The plan, before anything is sent: from the journal with `resume` (refused when a recorded task's provider
 * is missing); a fresh run archives an earlier journal and submits everything. Emits the `plan` event.
 */
async function planRun(
  options: RunBatchOptions,
  clients: BatchClients,
  retain: boolean,
  startedAt: Date,
  emit: OnBatchEvent,
): Promise<PlannedRun> {
  let state: JournalState = new Map();
  let skippedLines: number[] = [];
  let archivedJournal: string | undefined;
  if (options.resume) {
    ({ state, skippedLines } = await replayJournal(options.out));
  } else {
    archivedJournal = await archiveJournal(journalPath(options.out), startedAt);
  }
  const planner = new ResumePlanner(state, {
    retryFailed: options.retryFailed ?? false,
    resubmitUncertain: options.resubmitUncertain ?? true,
  });
  if (planner.needsClaims) {
    for await (const job of readJobs(options.jobs)) planner.claimOwn(job);
    for await (const job of readJobs(options.jobs)) planner.takeOver(job);
  }
  const plan = planner.emptyPlan();
  const check = new RecordedProviderCheck((name) => clients.provider(name), options.checkEndpoints ?? true);
  let total = 0;
  for await (const job of readJobs(options.jobs)) {
    total++;
    const planned = planner.decide(job);
    planner.count(plan, planned);
    check.note(planned);
    if (retain) plan.jobs.push(planned);
  }
  emit({
    type: "plan",
    plan,
    total,
    skippedLines,
    ...(archivedJournal !== undefined ? { archivedJournal } : {}),
  });
  if (options.resume) check.verify();
  return { planner, plan, superseded: options.resume ? supersededTasks(planner) : [] };
}

/** The journal state of the jobs in flight only, kept from the records as they are appended. */
class InFlightStates {
  private readonly tracked = new Set<string>();
  private readonly state: JournalState = new Map();

  track(jobId: string, initial: JobJournalState | undefined): void {
    this.tracked.add(jobId);
    if (initial !== undefined) this.state.set(jobId, initial);
  }

  apply(record: JournalRecord): void {
    if (this.tracked.has(record.jobId)) applyRecord(this.state, record);
  }

  /** Stops tracking the job; returns its latest state. */
  release(jobId: string): JobJournalState | undefined {
    const latest = this.state.get(jobId);
    this.tracked.delete(jobId);
    this.state.delete(jobId);
    return latest;
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
