/**
 * `jimeng serve`: the shared task service (HTTP API, worker pool, embedded SQLite store) in the foreground.
 * Prints its URL, and the admin API key on the first start only (one JSON line with `--json`). Ctrl-C or
 * SIGTERM stops accepting requests, lets running tasks finish (`--drain-timeout`), and exits 0.
 */
import { ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { durationMs } from "../duration.js";
import { EXIT } from "../exit-codes.js";
import { redisOption } from "../redis-option.js";
import { pollIntervalCap, prepareServiceProvider, providerOptions } from "../settings.js";

export interface ServeDocument {
  url: string;
  data: string;
  provider: string;
  /** Only on the start that created it: the admin API key, shown this once. */
  adminKey?: string;
  /** With `--emulator`: the in-process emulator the workers submit to. */
  emulator?: string;
  insecureNoAuth: boolean;
  /** With `--redis`: the shared queue (password hidden); `jimeng worker` processes run the tasks. */
  redis?: string;
}

export function whole(value: unknown, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new ValidationError([{ path: flag, message: `"${String(value)}" is not a whole number ≥ ${min}` }]);
  }
  return number;
}

export function positive(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) {
    throw new ValidationError([{ path: flag, message: `"${String(value)}" is not a positive number` }]);
  }
  return number;
}

export function duration(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = durationMs(String(value), { allowZero: true });
  if (ms === undefined)
    throw new ValidationError([{ path: flag, message: `"${String(value)}" is not a duration` }]);
  return ms;
}

function human(document: ServeDocument): string {
  const lines = [
    `jimeng serve listening on ${document.url} (data: ${document.data}, provider: ${document.provider})`,
  ];
  if (document.redis) {
    lines.push(
      `  tasks go to the shared queue at ${document.redis}; start workers with \`jimeng worker --redis <url>\``,
    );
  } else if (document.emulator) {
    lines.push(`  workers submit to the built-in emulator at ${document.emulator}`);
  }
  if (document.insecureNoAuth)
    lines.push("  --insecure-no-auth: every request acts as the admin (loopback only)");
  if (document.adminKey) {
    lines.push(
      "",
      "Admin API key (shown this once; the service keeps only its hash):",
      `  ${document.adminKey}`,
      "",
      "Create a user and its key:",
      `  curl -s -X POST ${document.url}/api/v1/users -H "Authorization: Bearer $ADMIN_KEY" -H "Content-Type: application/json" -d '{"email":"user@example.com","name":"user"}'`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { options } = call;
  const port = whole(options.port ?? 8080, "--port", 0) ?? 8080;
  if (port > 65_535)
    throw new ValidationError([{ path: "--port", message: `${port} is not a port (0–65535)` }]);
  const host = String(options.host ?? "127.0.0.1");
  const data = String(options.data ?? "./jimeng-data");
  const insecureNoAuth = options.insecureNoAuth === true;
  const concurrency = whole(options.concurrency, "--concurrency", 1);
  const retries = whole(options.retries, "--retries", 0);
  const defaultCredits = whole(options.defaultCredits, "--default-credits", 0);
  const maxActiveTasks = whole(options.maxActiveTasks, "--max-active-tasks", 1);
  const imagesPerDay = whole(options.imagesPerDay, "--images-per-day", 1);
  const keyRatePerSecond = positive(options.keyRate, "--key-rate");
  const upstreamQps = positive(options.upstreamQps, "--upstream-qps");
  const drainTimeoutMs = duration(options.drainTimeout, "--drain-timeout");
  const emulatorMs = duration(options.emulatorDuration, "--emulator-duration");
  const redis = await redisOption(context, options);
  if (redis && retries !== undefined) {
    throw new ValidationError([
      { path: "--retries", message: "with --redis the workers poll and download: start them with --retries" },
    ]);
  }
  const { isLoopback } = await import("../../server/server.js");
  if (insecureNoAuth && !isLoopback(host)) {
    throw new ValidationError([
      {
        path: "--host",
        message: `--insecure-no-auth only binds a loopback address (127.0.0.1, ::1), not ${host}`,
      },
    ]);
  }

  const prepared = await prepareServiceProvider(context, options, emulatorMs);
  try {
    const [{ createProvider }, { createServer }] = await Promise.all([
      import("../../providers/create.js"),
      import("../../server/server.js"),
    ]);
    const maxPollIntervalMs = pollIntervalCap(context.env, prepared.settings.emulator);
    const quotas = {
      ...(maxActiveTasks !== undefined ? { maxActiveTasks } : {}),
      ...(imagesPerDay !== undefined ? { imagesPerDay } : {}),
      ...(keyRatePerSecond !== undefined ? { keyRatePerSecond } : {}),
    };
    const server = await createServer({
      provider: createProvider(providerOptions(prepared.provider)),
      data,
      insecureNoAuth,
      quotas,
      resubmitUncertain: options.resubmitUncertain !== false,
      logger: { level: context.globals.verbose ? "info" : "warn", stream: process.stderr },
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(defaultCredits !== undefined ? { defaultCredits } : {}),
      ...(upstreamQps !== undefined ? { upstreamQps } : {}),
      ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
      ...(maxPollIntervalMs !== undefined ? { maxPollIntervalMs } : {}),
      ...(typeof options.publicUrl === "string" ? { publicUrl: options.publicUrl } : {}),
      ...(redis ? { redis } : {}),
    });
    let url: string;
    try {
      url = await server.listen({ host, port });
    } catch (error) {
      await server.close();
      throw error;
    }
    const document: ServeDocument = {
      url,
      data,
      provider: prepared.provider.provider,
      insecureNoAuth,
      ...(server.adminKey ? { adminKey: server.adminKey } : {}),
      ...(prepared.emulatorUrl ? { emulator: prepared.emulatorUrl } : {}),
      ...(redis ? { redis: redis.display } : {}),
    };
    context.output.result(document, () => human(document));
    context.output.info("Press Ctrl-C to stop (running tasks finish first).");
    if (!context.signal.aborted) {
      await new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
    context.output.info("Stopping: no new requests; letting running tasks finish…");
    await server.close();
    context.output.info("Stopped.");
    return EXIT.ok;
  } finally {
    await prepared.close();
  }
}
