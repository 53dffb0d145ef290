/**
 * `jimeng emulate`: the loopback emulator of both remote APIs in the foreground. Prints its endpoints and demo
 * credentials (one JSON line with `--json`), then serves until Ctrl-C or SIGTERM, and stops cleanly (exit 0).
 */
import { ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { parseDuration } from "../duration.js";
import { EXIT } from "../exit-codes.js";

export interface EmulateDocument {
  url: string;
  visualEndpoint: string;
  sessionEndpoint: string;
  arkEndpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionId: string; arkApiKey: string };
  /** Environment variables that point `jimeng` (or the SDK's CLI defaults) at this emulator. */
  env: Record<string, string>;
}

function parsePort(value: unknown): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ValidationError([{ path: "--port", message: `"${String(value)}" is not a port (0–65535)` }]);
  }
  return port;
}

function parseRate(value: unknown, flag: string): number {
  const rate = Number(value);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new ValidationError([{ path: flag, message: `"${String(value)}" is not a share between 0 and 1` }]);
  }
  return rate;
}

function parseSeed(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed)) {
    throw new ValidationError([{ path: "--seed", message: `"${String(value)}" is not a whole number` }]);
  }
  return seed;
}

function parseTimeScale(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new ValidationError([
      { path: "--time-scale", message: `"${String(value)}" is not a positive number` },
    ]);
  }
  return scale;
}

function human(document: EmulateDocument): string {
  const exports = Object.entries(document.env)
    .map(([name, value]) => `  export ${name}=${value}`)
    .join("\n");
  return [
    `Emulator listening on ${document.url}`,
    "",
    `  visual  endpoint ${document.visualEndpoint}`,
    `          access key ${document.credentials.accessKeyId}  secret ${document.credentials.secretAccessKey}`,
    `  session endpoint ${document.sessionEndpoint}`,
    `          session id ${document.credentials.sessionId}`,
    `  ark     endpoint ${document.arkEndpoint}`,
    `          API key ${document.credentials.arkApiKey}`,
    "",
    "Point jimeng at it from another shell:",
    exports,
    "",
  ].join("\n");
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const { options } = call;
  const port = parsePort(options.port);
  const host = String(options.host ?? "127.0.0.1");
  const latencyMs =
    options.latency === undefined
      ? 0
      : parseDuration(String(options.latency), "--latency", { allowZero: true });
  const taskFailure = parseRate(options.failRate ?? 0, "--fail-rate");
  const seed = parseSeed(options.seed);
  const durations: { image?: number; video?: number } = {};
  if (options.imageDuration !== undefined)
    durations.image = parseDuration(String(options.imageDuration), "--image-duration", { allowZero: true });
  if (options.videoDuration !== undefined)
    durations.video = parseDuration(String(options.videoDuration), "--video-duration", { allowZero: true });
  const timeScale = parseTimeScale(options.timeScale);

  const { startEmulator } = await import("../../emulator/server.js");
  const emulator = await startEmulator({
    port,
    host,
    latencyMs,
    faults: { taskFailure },
    durations,
    ...(seed === undefined ? {} : { seed }),
    ...(timeScale === undefined ? {} : { timeScale }),
  });
  const { url, credentials } = emulator;
  const document: EmulateDocument = {
    url,
    visualEndpoint: url,
    sessionEndpoint: url,
    arkEndpoint: `${url}/api/v3`,
    credentials: { ...credentials },
    env: {
      JIMENG_VISUAL_ENDPOINT: url,
      JIMENG_SESSION_ENDPOINT: url,
      VOLC_ACCESSKEY: credentials.accessKeyId,
      VOLC_SECRETKEY: credentials.secretAccessKey,
      JIMENG_SESSION_ID: credentials.sessionId,
      JIMENG_ARK_ENDPOINT: `${url}/api/v3`,
      ARK_API_KEY: credentials.arkApiKey,
      // The emulator's pace: tasks take milliseconds here, and clients would otherwise poll seconds apart.
      JIMENG_POLL_INTERVAL: `${emulator.pollIntervalMs}ms`,
    },
  };
  context.output.result(document, () => human(document));
  context.output.info("Press Ctrl-C to stop.");

  if (!context.signal.aborted) {
    await new Promise<void>((resolve) =>
      context.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
  }
  const { requests, submits, polls, downloads } = emulator.counters;
  await emulator.stop();
  context.output.info(
    `Emulator stopped after ${requests} requests (${submits} submits, ${polls} polls, ${downloads} downloads).`,
  );
  return EXIT.ok;
}
