/**
 * `jimeng worker --redis <url>`: runs the tasks of `serve --redis` (and the jobs of `batch --redis`) from the
 * shared BullMQ queue, on any machine, with this machine's provider credentials (environment or config).
 * Outputs go to `<data>/files/`, the folder every node of the deployment mounts. Ctrl-C or SIGTERM stops
 * taking jobs and lets running ones finish (`--drain-timeout`); what is still running then is handed back to
 * the queue with its upstream task id, for another worker to poll.
 */
import path from "node:path";
import { DEFAULT_BATCH_RETRIES } from "../../batch/runner.js";
import { ValidationError } from "../../errors.js";
import { ENV_NAMES } from "../../setting-names.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { EXIT } from "../exit-codes.js";
import { redisOption } from "../redis-option.js";
import { pollIntervalCap, prepareServiceProvider, providerConfigFor, providerOptions } from "../settings.js";
import { duration, positive, whole } from "./serve.js";

export interface WorkerDocument {
  redis: string;
  prefix: string;
  data: string;
  provider: string;
  concurrency: number;
  /** With `--emulator`: the in-process emulator this worker submits to. */
  emulator?: string;
}

function human(document: WorkerDocument): string {
  const lines = [
    `jimeng worker taking jobs from ${document.redis} (prefix ${document.prefix}), ${document.concurrency} at a time`,
    `  provider: ${document.provider}; outputs: ${path.join(document.data, "files")} (serve), each batch's -o inside ${document.data} (batch)`,
  ];
  if (document.emulator) lines.push(`  submits to the built-in emulator at ${document.emulator}`);
  return `${lines.join("\n")}\n`;
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { options } = call;
  const redis = await redisOption(context, options);
  if (!redis) {
    throw new ValidationError([
      {
        path: "--redis",
        message: `a worker needs the shared queue: --redis redis://host:6379 or ${ENV_NAMES.redisUrl}`,
      },
    ]);
  }
  const concurrency = whole(options.concurrency ?? 4, "--concurrency", 1) ?? 4;
  const upstreamQps = positive(options.upstreamQps, "--upstream-qps");
  const retries = whole(options.retries ?? DEFAULT_BATCH_RETRIES, "--retries", 0) ?? DEFAULT_BATCH_RETRIES;
  const drainTimeoutMs = duration(options.drainTimeout, "--drain-timeout") ?? 30_000;
  const stallTimeoutMs = duration(options.stallTimeout, "--stall-timeout");
  const emulatorMs = duration(options.emulatorDuration, "--emulator-duration");
  const data = String(options.data ?? "./jimeng-data");

  const prepared = await prepareServiceProvider(context, options, emulatorMs);
  try {
    const [{ createProvider }, { QueueWorker }] = await Promise.all([
      import("../../providers/create.js"),
      import("../../queue/redis-worker.js"),
    ]);
    const maxPollIntervalMs = pollIntervalCap(context.env, prepared.settings.emulator);
    const worker = new QueueWorker({
      target: redis,
      provider: createProvider(providerOptions(prepared.provider)),
      // A batch job may name another provider: run it when this machine has its credentials too.
      providers: (name) => {
        const config = providerConfigFor(prepared.settings, name, false, context.env);
        if (config instanceof Error) return config;
        // The worker closes every provider it builds, with its task clients.
        return createProvider(providerOptions(config));
      },
      data,
      concurrency,
      retries,
      resubmitUncertain: options.resubmitUncertain !== false,
      log: {
        warn: (message) => context.output.warn(message),
        info: (message) => context.output.info(message),
      },
      redact: (text) => context.output.redact(text),
      ...(upstreamQps !== undefined ? { upstreamQps } : {}),
      ...(stallTimeoutMs !== undefined ? { stallTimeoutMs } : {}),
      ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}),
    });
    try {
      await worker.start();
    } catch (error) {
      await worker.close(0);
      throw error;
    }
    const document: WorkerDocument = {
      redis: redis.display,
      prefix: redis.prefix,
      data,
      provider: prepared.provider.provider,
      concurrency,
      ...(prepared.emulatorUrl ? { emulator: prepared.emulatorUrl } : {}),
    };
    context.output.result(document, () => human(document));
    context.output.info("Press Ctrl-C to stop (running jobs finish first, or go back to the queue).");
    if (!context.signal.aborted) {
      await new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
    context.output.info("Stopping: no new jobs; letting running ones finish…");
    await worker.close(drainTimeoutMs);
    const handed = worker.counters.handedBack;
    context.output.info(
      handed > 0 ? `Stopped; ${handed} running job(s) went back to the queue to be polled.` : "Stopped.",
    );
    return EXIT.ok;
  } finally {
    await prepared.close();
  }
}
