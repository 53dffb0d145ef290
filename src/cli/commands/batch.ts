/**
 * `jimeng batch <file>`: validates the whole file against the chosen provider's model registry (nothing is
 * sent when any job is wrong: exit 2), then runs it with the batch runner, shows progress, writes
 * `<out>/report.json` and, with `--json`, prints the report. Exit 0 when every job succeeded, 1 otherwise,
 * 130 when interrupted (the resume command is printed).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BatchValidationError, validateBatch } from "../../batch/files.js";
import { type BatchJob, toGenerationRequest } from "../../batch/job.js";
import { batchFileJobs } from "../../batch/job-source.js";
import { replayJournal } from "../../batch/journal.js";
import { lockOutput } from "../../batch/lock.js";
import { ResumePlanner } from "../../batch/plan.js";
import { RequestRate } from "../../batch/rate.js";
import type { BatchReport } from "../../batch/report.js";
import {
  type BatchEvent,
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_BATCH_RETRIES,
  runBatch,
  ThrottleFeed,
} from "../../batch/runner.js";
import { PROVIDER_NAMES, type ProviderName, ValidationError, type ValidationIssue } from "../../errors.js";
import { isArkModelName } from "../../providers/ark/catalog.js";
import { createProvider, type ProviderOptions } from "../../providers/create.js";
import { generationRequestSchema } from "../../providers/request.js";
import { checkImageCount, checkRequestFields } from "../../providers/rules.js";
import type { ModelCapability, Provider } from "../../providers/types.js";
import type { RedisTarget } from "../../queue/bullmq.js";
import { ENV_NAMES } from "../../setting-names.js";
import { columnMeter, printStreamedPlan } from "../batch-dry-run.js";
import { createBatchProgress } from "../batch-progress.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import type { ProviderConfig } from "../config.js";
import { parseDuration } from "../duration.js";
import { EXIT } from "../exit-codes.js";
import { failureText, type Output } from "../output.js";
import { checkOutputFolder } from "../output-folder.js";
import { redisOption } from "../redis-option.js";
import { pollIntervalCap, prepareProvider, providerConfigFor, providerOptions } from "../settings.js";
import { shellQuote } from "../shell-quote.js";
import { saveStdinBatch } from "../stdin.js";
import { safeText } from "../terminal-text.js";

interface BatchFlags {
  concurrency: number;
  /** `-c` was given (with --redis the default differs). */
  concurrencySet: boolean;
  qps?: number;
  out?: string;
  retries: number;
  dryRun: boolean;
  resume: boolean;
  retryFailed: boolean;
  resubmitUncertain: boolean;
  timeout?: number;
  /** `--timeout` as typed, for the printed resume command. */
  timeoutText?: string;
  model?: string;
  endpoint?: string;
  region?: string;
}

/** `--redis`: the jobs run on the shared queue's workers; this process validates, adds and follows them. */
interface QueueFlags {
  target: RedisTarget;
  /** The shared data folder as typed (every worker mounts it); `-o` is inside it. */
  data: string;
  /**
   * The URL as typed with `--redis`, for printed commands; absent when it came from the environment or holds a
   * password (never printed).
   */
  url?: string;
}

/** With --redis, how many of the batch's jobs are in the queue at once by default. */
export const DEFAULT_QUEUED_JOBS = 64;

function wholeNumber(flag: string, value: unknown, min: number): number {
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new ValidationError([
      { path: flag, message: `must be a whole number ≥ ${min}, got "${String(value)}"` },
    ]);
  }
  return number;
}

function flagsOf(options: Readonly<Record<string, unknown>>): BatchFlags {
  const flags: BatchFlags = {
    concurrency: wholeNumber("--concurrency", options.concurrency ?? DEFAULT_BATCH_CONCURRENCY, 1),
    concurrencySet: options.concurrency !== undefined,
    retries: wholeNumber("--retries", options.retries ?? DEFAULT_BATCH_RETRIES, 0),
    dryRun: options.dryRun === true,
    resume: options.resume === true,
    retryFailed: options.retryFailed === true,
    resubmitUncertain: options.resubmitUncertain !== false,
  };
  if (options.qps !== undefined) {
    const qps = Number(options.qps);
    if (!(qps > 0) || !Number.isFinite(qps)) {
      throw new ValidationError([
        { path: "--qps", message: `must be a positive number, got "${String(options.qps)}"` },
      ]);
    }
    flags.qps = qps;
  }
  if (typeof options.timeout === "string") {
    flags.timeout = parseDuration(options.timeout, "--timeout");
    flags.timeoutText = options.timeout;
  }
  for (const key of ["out", "model", "endpoint", "region"] as const) {
    const value = options[key];
    if (typeof value === "string" && value.trim() !== "") flags[key] = value;
  }
  if (flags.retryFailed && !flags.resume) {
    throw new ValidationError([{ path: "--retry-failed", message: "only makes sense with --resume" }]);
  }
  return flags;
}

/**
 * `--qps` becomes each provider's transport gate, so every attempt (retries included) counts against the cap
 * the way the server counts it.
 */
function toProviderOptions(
  config: ProviderConfig,
  feed: ThrottleFeed,
  qps: number | undefined,
): ProviderOptions {
  const shared = {
    onRetry: feed.onRetry,
    ...(qps !== undefined ? { gate: new RequestRate({ perSecond: qps }) } : {}),
  };
  return { ...providerOptions(config), ...shared };
}

/**
 * A job naming an Ark model (`doubao-seedream-…`, `doubao-seedance-…`, `ep-…`) without a provider runs on Ark,
 * as on the command line (cli.md: the model picks the provider when only one serves it).
 */
function providerByModel(job: BatchJob, main: ProviderName): ProviderName | undefined {
  return job.provider === undefined && main !== "ark" && job.model && isArkModelName(job.model)
    ? "ark"
    : undefined;
}

/** The jobs of a batch file, each with the provider its model picks (the same on every read, so on resume). */
function withModelProvider(
  jobs: () => AsyncIterable<BatchJob>,
  main: ProviderName,
): () => AsyncIterable<BatchJob> {
  return async function* () {
    for await (const job of jobs()) {
      const provider = providerByModel(job, main);
      yield provider ? { ...job, provider } : job;
    }
  };
}

/** Checks one job against its provider's registry: the model exists for the kind, and takes the job's options. */
/** Everything about a job its model can refuse, local reference images included (read, sniffed, measured). */
async function checkJob(job: BatchJob, provider: Provider): Promise<ValidationIssue[]> {
  let model: ModelCapability;
  try {
    model = provider.resolveModel(job.model, job.kind);
  } catch (error) {
    if (error instanceof ValidationError) {
      return error.issues.map((issue) => ({ path: issue.path || "model", message: issue.message }));
    }
    throw error;
  }
  const parsed = generationRequestSchema.safeParse(toGenerationRequest(job));
  if (!parsed.success) return [];
  const issues = checkRequestFields(parsed.data, model);
  const images = job.images?.length ?? 0;
  const counted = checkImageCount(images, model, job.kind);
  issues.push(...counted);
  if (counted.length === 0 && model.images && images > 0) {
    // The same checks the submit would make (format, bytes, pixels, ratio), so a bad file stops the whole
    // batch before anything is sent instead of failing its job halfway through.
    const { resolveImages } = await import("../../media/inputs.js");
    try {
      await resolveImages(job.images ?? [], model, { kind: job.kind });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues.map((issue) => ({ path: issue.path || "images", message: issue.message })));
    }
  }
  return issues;
}

/**
 * The command that continues this run: every option that shapes it (provider, emulator, endpoint, region,
 * model, concurrency, rate, retries, timeout, resume policy), so the rest runs on the same account and terms.
 */
export function resumeCommand(
  file: string,
  out: string,
  flags: BatchFlags,
  run: { provider: ProviderName; emulator: boolean; queue?: QueueFlags },
): string {
  const parts = ["jimeng", "--provider", run.provider];
  if (run.emulator) parts.push("--emulator");
  parts.push("batch", shellQuote(file), "--resume", "-o", shellQuote(out));
  const { queue } = run;
  if (queue) {
    if (queue.url !== undefined) parts.push("--redis", shellQuote(queue.url));
    if (queue.target.prefix !== "jimeng") parts.push("--redis-prefix", shellQuote(queue.target.prefix));
    parts.push("--data", shellQuote(queue.data));
  }
  if (flags.endpoint) parts.push("--endpoint", shellQuote(flags.endpoint));
  if (flags.region) parts.push("--region", shellQuote(flags.region));
  if (flags.model) parts.push("-m", shellQuote(flags.model));
  if (flags.concurrencySet) parts.push("-c", String(flags.concurrency));
  if (flags.qps !== undefined) parts.push("--qps", String(flags.qps));
  if (flags.retries !== DEFAULT_BATCH_RETRIES) parts.push("--retries", String(flags.retries));
  if (flags.timeoutText !== undefined) parts.push("--timeout", shellQuote(flags.timeoutText));
  if (flags.retryFailed) parts.push("--retry-failed");
  if (!flags.resubmitUncertain) parts.push("--no-resubmit-uncertain");
  return parts.join(" ");
}

function supersededText(id: string, taskId: string, replacedBy: string | undefined): string {
  const why = replacedBy !== undefined ? `job ${replacedBy} changed` : `job ${id} is no longer in the file`;
  return `${why} while its task ${taskId} was still running (already paid for); keeping that result as ${id}`;
}

/** A job that ended badly (now, or in an earlier run and skipped), as one line on stderr. */
function printFailure(output: Output, event: BatchEvent): void {
  const failed =
    (event.type === "end" && event.status !== "succeeded") ||
    (event.type === "skip" && event.reason === "failed");
  if (!failed || event.error === undefined) return;
  const status = event.type === "end" ? event.status : "failed";
  output.stderrLine(
    `${output.errStyle.red("✖")} ${safeText(event.job.id, 200)}: ${status}: ${failureText(event.error)}`,
  );
}

function summaryText(report: BatchReport, reportFile: string | undefined): string {
  const lines = [`${report.succeeded} of ${report.total} succeeded, ${report.failed} failed`];
  const pending = report.total - report.succeeded - report.failed;
  if (pending > 0) lines[0] += `, ${pending} not finished`;
  if (reportFile) lines.push(`report: ${reportFile}`);
  return lines.join("\n");
}

/** Local image paths of a batch read from stdin that were relative (they resolve next to its saved copy). */
function relativeImages(job: BatchJob, stdinDir: string): ValidationIssue[] {
  return (job.images ?? []).flatMap((image, index) =>
    typeof image === "string" && image.startsWith(`${stdinDir}${path.sep}`)
      ? [
          {
            path: `images.${index}`,
            message:
              "a batch read from stdin takes absolute image paths or URLs; pass the file by name to use relative ones",
          },
        ]
      : [],
  );
}

/**
 * `--redis` (or JIMENG_REDIS_URL): the queue, the shared data folder and the output folder inside it
 * (`<data>/batches/<file name>` unless `-o` says otherwise). Checked before anything is read or sent.
 */
async function queueFlags(
  context: CommandContext,
  options: Readonly<Record<string, unknown>>,
  named: string,
  flags: BatchFlags,
): Promise<QueueFlags | undefined> {
  const target = flags.dryRun ? undefined : await redisOption(context, options);
  if (!target) {
    if (options.data !== undefined && !flags.dryRun) {
      throw new ValidationError([
        { path: "--data", message: "is the shared folder of --redis; without --redis the files go to -o" },
      ]);
    }
    return undefined;
  }
  if (flags.qps !== undefined) {
    throw new ValidationError([
      {
        path: "--qps",
        message: "with --redis the workers make the requests: start them with --upstream-qps instead",
      },
    ]);
  }
  if (options.retries !== undefined) {
    throw new ValidationError([
      {
        path: "--retries",
        message: "with --redis the workers poll and download: start them with --retries instead",
      },
    ]);
  }
  const data =
    typeof options.data === "string" && options.data.trim() !== "" ? options.data : "./jimeng-data";
  if (!flags.out) {
    const stem = named === "-" ? "stdin" : path.basename(named).replace(/\.[^.]*$/, "") || "batch";
    flags.out = path.join(data, "batches", stem);
  }
  const { folderInsideData } = await import("../../queue/batch-queue.js");
  folderInsideData(flags.out, data);
  if (!flags.concurrencySet) flags.concurrency = DEFAULT_QUEUED_JOBS;
  const url = typeof options.redis === "string" && target.secret === undefined ? options.redis : undefined;
  return { target, data, ...(url !== undefined ? { url } : {}) };
}

/** The command that starts a worker for this batch's queue and data folder. */
export function workerCommand(queue: QueueFlags): string {
  const parts = ["jimeng", "worker"];
  if (queue.url !== undefined) parts.push("--redis", shellQuote(queue.url));
  if (queue.target.prefix !== "jimeng") parts.push("--redis-prefix", shellQuote(queue.target.prefix));
  parts.push("--data", shellQuote(queue.data));
  return parts.join(" ");
}

/** A batch whose jobs are on a queue is resumed on that queue, or its running jobs would be submitted twice. */
async function refuseLocalResume(out: string): Promise<void> {
  const { readQueueRun } = await import("../../queue/batch-queue.js");
  const recorded = await readQueueRun(out);
  if (!recorded) return;
  throw new ValidationError([
    {
      path: "--redis",
      message: `this batch ran on a Redis queue (prefix ${recorded.prefix}); resume it there with --redis <url> --data <dir>, or its running jobs could be paid twice`,
    },
  ]);
}

/** Pure: the absolute paths of a job's saved files (the journal holds them relative to the output folder). */
export function savedPaths(files: readonly { file: string }[], out: string): string[] {
  return files.map((file) => path.resolve(out, ...file.file.split("/")));
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { output } = context;
  const named = call.args[0] as string;
  const flags = flagsOf(call.options);
  const queue = await queueFlags(context, call.options, named, flags);
  const prepared = await prepareProvider(
    context,
    {
      ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.out ? { out: flags.out } : {}),
    },
    // A dry run sends nothing: it checks the file against the registries, with or without credentials. With
    // --redis the workers hold the credentials; this process only checks and follows.
    { offline: flags.dryRun || queue !== undefined },
  );
  const feed = new ThrottleFeed();
  const providers = new Map<ProviderName, Provider>();
  // The folder must hold files before anything is paid for, and one run per output folder, taken before the
  // (possibly long) validation: a second run stops at once.
  const lock = flags.dryRun
    ? undefined
    : await checkOutputFolder(prepared.settings.outDir)
        .then(() => lockOutput(prepared.settings.outDir.value))
        .catch(async (error) => {
          await prepared.close();
          throw error;
        });
  // `-`: the jobs come from stdin, saved first (a run's copy stays beside its journal for --resume).
  const stdinDir =
    named !== "-"
      ? undefined
      : flags.dryRun
        ? await mkdtemp(path.join(tmpdir(), "jimeng-stdin-"))
        : path.join(prepared.settings.outDir.value, ".jimeng");
  try {
    const file = stdinDir ? await saveStdinBatch(context.io, stdinDir) : named;
    if (stdinDir && !flags.dryRun) output.info(`read the jobs from stdin into ${safeText(file, 4000)}`);
    const main = createProvider(toProviderOptions(prepared.provider, feed, flags.qps));
    providers.set(main.name, main);
    const unavailable = new Map<ProviderName, Error>();
    const providerFor = (name: ProviderName): Provider | Error => {
      const known = providers.get(name) ?? unavailable.get(name);
      if (known) return known;
      const config = providerConfigFor(
        prepared.settings,
        name,
        flags.dryRun || queue !== undefined,
        context.env,
      );
      if (config instanceof Error) {
        unavailable.set(name, config);
        return config;
      }
      const provider = createProvider(toProviderOptions(config, feed, flags.qps));
      providers.set(name, provider);
      return provider;
    };

    // Nothing is kept: a dry run streams its plan from further reads of the file, a run reads it again itself.
    const meter = columnMeter();
    const defaults = flags.model ? { defaults: { model: flags.model } } : {};
    const validation = await validateBatch(file, {
      ...defaults,
      keepJobs: false,
      validateJob: async (job) => {
        const provider = providerFor(job.provider ?? providerByModel(job, main.name) ?? main.name);
        if (provider instanceof Error) {
          return [{ path: "provider", message: `${job.provider} is not configured: ${provider.message}` }];
        }
        const issues = [
          ...(stdinDir ? relativeImages(job, stdinDir) : []),
          ...(await checkJob(job, provider)),
        ];
        if (flags.dryRun && issues.length === 0) meter.measure(job, provider);
        return issues;
      },
    });
    if (!validation.ok) throw new BatchValidationError(file, validation.issues);
    const out = prepared.settings.outDir.value;
    // Recorded tasks are polled through the provider that accepted them, so all are set up when they can be.
    if (flags.resume) for (const name of PROVIDER_NAMES) providerFor(name);

    if (flags.dryRun) {
      const providerOf = (job: BatchJob) =>
        providers.get(job.provider ?? providerByModel(job, main.name) ?? main.name) ?? main;
      const planner = flags.resume
        ? new ResumePlanner((await replayJournal(out)).state, {
            retryFailed: flags.retryFailed,
            resubmitUncertain: flags.resubmitUncertain,
          })
        : undefined;
      await printStreamedPlan(context, file, defaults, providerOf, meter.widths, planner);
      return EXIT.ok;
    }

    if (flags.resume && !queue) await refuseLocalResume(out);
    let batchQueue: import("../../queue/batch-queue.js").BatchQueue | undefined;
    if (queue) {
      const { BatchQueue, folderInsideData, queueRun } = await import("../../queue/batch-queue.js");
      batchQueue = await BatchQueue.open(
        {
          target: queue.target,
          dir: folderInsideData(out, queue.data),
          provider: main.name,
          resubmitUncertain: flags.resubmitUncertain,
          log: (message) => output.warn(message),
        },
        () => queueRun(out, queue.target.prefix, flags.resume),
      );
      output.info(
        `jobs go to the queue at ${queue.target.display}; workers save the files into ${safeText(out, 4000)}`,
      );
      if ((await batchQueue.workers()) === 0) {
        output.warn(
          `no worker is taking jobs from this queue yet; they wait until one starts${queue.url === undefined ? ` (with ${ENV_NAMES.redisUrl} set)` : ""}:\n  ${workerCommand(queue)}`,
        );
      }
    }
    const queued = batchQueue;
    const progress = await createBatchProgress(output);
    const pipePaths = !output.mode.json && !output.io.stdout.isTTY;
    const maxPollIntervalMs = pollIntervalCap(context.env, prepared.settings.emulator);
    const { Jimeng } = await import("../../tasks/client.js");
    let result: Awaited<ReturnType<typeof runBatch>>;
    try {
      result = await runBatch({
        jobs: withModelProvider(batchFileJobs(file, defaults), main.name),
        retain: false,
        provider: main,
        providers: Object.fromEntries(providers),
        jimeng: (provider) =>
          new Jimeng({ provider, ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}) }),
        out,
        concurrency: flags.concurrency,
        retries: flags.retries,
        resume: flags.resume,
        retryFailed: flags.retryFailed,
        resubmitUncertain: flags.resubmitUncertain,
        lock: false,
        // With --redis the workers poll with their own endpoints.
        checkEndpoints: !prepared.settings.emulator && !queued,
        ...(queued ? { executor: (runner) => queued.executor(runner) } : {}),
        throttles: feed,
        signal: context.signal,
        onEvent: (event) => {
          // Like `generate`: in a pipe, stdout carries the saved files as each job ends (`| xargs …` works);
          // the summary is a human line on stderr. On a terminal the paths would only bury it.
          if (pipePaths && event.type === "end" && event.status === "succeeded")
            for (const file of savedPaths(event.files, out)) output.print(safeText(file, 4000));
          if (event.type === "superseded")
            progress.warn(supersededText(event.job.id, event.ref.taskId, event.replacedBy));
          // The progress display shows each failure as it happens; with --quiet it shows nothing but these.
          if (output.mode.quiet) printFailure(output, event);
          progress.onEvent(event);
        },
        redact: (text) => output.redact(text),
        ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
      });
    } finally {
      progress.stop();
      await queued?.close();
    }

    const { report } = result;
    const reportFile = result.reportFile
      ? path.relative(process.cwd(), result.reportFile) || result.reportFile
      : undefined;
    if (output.mode.json) await output.jsonText((indent) => result.reportText(indent));
    else output.stderrLine(summaryText(report, reportFile));
    if (result.interrupted) {
      const again = resumeCommand(file, out, flags, {
        provider: main.name,
        emulator: prepared.settings.emulator,
        ...(queue ? { queue } : {}),
      });
      const running = queue ? " (jobs a worker already runs go on there; --resume follows them again)" : "";
      const env =
        queue && queue.url === undefined ? `with ${ENV_NAMES.redisUrl} set to the queue's URL, ` : "";
      output.warn(`interrupted${running}; ${env}continue with:\n  ${again}`);
      return EXIT.interrupted;
    }
    return report.succeeded === report.total ? EXIT.ok : EXIT.failed;
  } finally {
    await Promise.all([...providers.values()].map((provider) => provider.close()));
    await lock?.release();
    if (stdinDir && flags.dryRun) await rm(stdinDir, { recursive: true, force: true });
    await prepared.close();
  }
}
