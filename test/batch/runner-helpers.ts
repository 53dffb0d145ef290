/** Shared set-up for the runner tests: the emulator, both providers and one virtual clock for all of them. */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BatchJob, toBatchJob } from "../../src/batch/job.js";
import { type BatchRunResult, type RunBatchOptions, runBatch, ThrottleFeed } from "../../src/batch/runner.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { AbortError, type ProviderName } from "../../src/errors.js";
import { ArkProvider } from "../../src/providers/ark/provider.js";
import { SessionProvider } from "../../src/providers/session/provider.js";
import type { Provider } from "../../src/providers/types.js";
import { VisualProvider } from "../../src/providers/visual/provider.js";
import { Jimeng } from "../../src/tasks/client.js";

/**
 * Virtual time: every sleep moves the shared clock forward and yields once, so waits that would take
 * minutes take microseconds, while the emulator's task timer reads the same clock.
 */
export function virtualTime() {
  const clock = { now: Date.now() };
  const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    clock.now += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  };
  return { clock, sleep, now: () => clock.now };
}

export interface Bench {
  emulator: RunningEmulator;
  out: string;
  time: ReturnType<typeof virtualTime>;
  providers: Record<ProviderName, Provider>;
  run(jobs: readonly BatchJob[], options?: Partial<RunBatchOptions>): Promise<BatchRunResult>;
  cleanup(): Promise<void>;
}

export async function setUp(emulatorOptions: EmulatorOptions = {}): Promise<Bench> {
  const time = virtualTime();
  const emulator = await startEmulator({ clock: time.now, ...emulatorOptions });
  const out = await mkdtemp(path.join(tmpdir(), "jimeng-batch-"));
  const feed = new ThrottleFeed();
  const shared = { sleep: time.sleep, random: () => 0.5, onRetry: feed.onRetry };
  const providers: Record<ProviderName, Provider> = {
    visual: new VisualProvider({
      accessKeyId: emulator.credentials.accessKeyId,
      secretAccessKey: emulator.credentials.secretAccessKey,
      endpoint: emulator.url,
      ...shared,
    }),
    session: new SessionProvider({
      sessionId: emulator.credentials.sessionId,
      endpoint: emulator.url,
      ...shared,
    }),
    ark: new ArkProvider({
      apiKey: emulator.credentials.arkApiKey,
      endpoint: `${emulator.url}/api/v3`,
      ...shared,
    }),
  };
  return {
    emulator,
    out,
    time,
    providers,
    run: (jobs, options = {}) =>
      runBatch({
        jobs,
        out,
        provider: providers.visual,
        providers,
        jimeng: (provider) =>
          new Jimeng({ provider, clock: { now: time.now }, sleep: time.sleep, random: () => 0.5 }),
        sleep: time.sleep,
        random: () => 0.5,
        throttles: feed,
        journal: { sync: "none" },
        ...options,
      }),
    cleanup: async () => {
      await Promise.all([providers.visual.close(), providers.session.close()]);
      await emulator.stop();
      await rm(out, { recursive: true, force: true });
    },
  };
}

let line = 0;
/** A validated job as a batch file would give it. */
export function job(fields: Partial<BatchJob> & { prompt: string }): BatchJob {
  line++;
  const { id, source: _source, hash: _hash, kind = "generate", ...rest } = fields;
  return toBatchJob({ kind, ...rest, ...(id !== undefined ? { id } : {}) }, { file: "jobs.jsonl", line });
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Every succeeded job's files exist in `out` with the sha256 the report claims and the emulator served. */
export async function checkFiles(bench: Bench, result: BatchRunResult): Promise<number> {
  const served = new Set(bench.emulator.tasks().flatMap((task) => task.outputs.map((o) => o.sha256)));
  let checked = 0;
  for (const entry of result.report.jobs) {
    for (const file of entry.files) {
      const bytes = await readFile(path.join(bench.out, file.file));
      if (sha256(bytes) !== file.sha256 || bytes.length !== file.bytes || !served.has(file.sha256)) {
        throw new Error(`${entry.id}: ${file.file} does not match what the emulator served`);
      }
      checked++;
    }
  }
  return checked;
}
