/**
 * Batch benchmark against the emulator, in scaled time: the emulator's clock and the client's clock and
 * sleeps all run SCALE× faster than real time, so a realistic 10 s generation takes 200 ms and the real poll
 * schedule (first poll at the model's 5 s minimum, then ~1 s) is exercised as is. The scale stays modest
 * (10 s → 500 ms): one millisecond of real overhead (event-loop lag from the emulator sharing the process)
 * counts as SCALE ms of virtual time, so a larger scale measures the test rig more than the runner.
 *
 * 1. Makespan of N jobs at -c 16 relative to the ideal ⌈N/c⌉ × generation time, and the peak RSS of the
 *    process (runner, journal with fdatasync, downloads — and the in-process emulator).
 * 2. The same kind of batch under an emulator QPS cap of 10 (virtual) requests per second: the runner with
 *    --qps 10 against a naive client that polls every second with no rate limit (it hits 429s and retries).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import type { BatchJob } from "../../src/batch/job.js";
import { toBatchJob } from "../../src/batch/job.js";
import { isThrottle } from "../../src/batch/rate.js";
import { runBatch } from "../../src/batch/runner.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { sleep as realSleep } from "../../src/http/sleep.js";
import { HttpTransport } from "../../src/http/transport.js";
import { downloadOutputs } from "../../src/media/download.js";
import type { Provider } from "../../src/providers/types.js";
import { VisualProvider } from "../../src/providers/visual/provider.js";
import { Jimeng } from "../../src/tasks/client.js";
import { waitForTask } from "../../src/tasks/wait.js";
import { BIN, emulatorSettings } from "../helpers/cli.js";
import { FIXED_1S } from "./baselines.js";
import type { Bench, BenchFigure } from "./types.js";

const SUITE = "batch";
const SCALE = 20;
const GENERATION_MS = 10_000;
const CONCURRENCY = 16;
const MODEL = "jimeng_t2i_v31";

/** One scaled clock for the emulator and the client: virtual ms, and sleeps that take 1/SCALE of real time. */
function scaledTime() {
  const origin = Date.now();
  const now = () => origin + (Date.now() - origin) * SCALE;
  const sleep = (ms: number, signal?: AbortSignal) => realSleep(ms / SCALE, signal);
  return { now, sleep };
}

function jobs(count: number, tag: string): BatchJob[] {
  return Array.from({ length: count }, (_, index) =>
    toBatchJob(
      { kind: "generate", prompt: `${tag} ${index}`, model: MODEL },
      { file: "bench.jsonl", line: index + 1 },
    ),
  );
}

interface Setup {
  emulator: RunningEmulator;
  provider: Provider;
  out: string;
  time: ReturnType<typeof scaledTime>;
  close(): Promise<void>;
}

async function setUp(qps?: number): Promise<Setup> {
  const time = scaledTime();
  const emulator = await startEmulator({
    timeScale: SCALE,
    durations: { image: GENERATION_MS },
    queueShare: 0.2,
    imageSize: 64,
    ...(qps !== undefined ? { faults: { qps } } : {}),
  });
  const provider = new VisualProvider({
    accessKeyId: emulator.credentials.accessKeyId,
    secretAccessKey: emulator.credentials.secretAccessKey,
    endpoint: emulator.url,
    sleep: time.sleep,
    now: time.now,
  });
  const out = await mkdtemp(path.join(tmpdir(), "jimeng-bench-batch-"));
  return {
    emulator,
    provider,
    out,
    time,
    close: async () => {
      await provider.close();
      await emulator.stop();
      await rm(out, { recursive: true, force: true });
    },
  };
}

async function runOurs(setup: Setup, list: BatchJob[], qps?: number) {
  const started = performance.now();
  const result = await runBatch({
    jobs: list,
    provider: setup.provider,
    out: setup.out,
    concurrency: CONCURRENCY,
    jimeng: (provider) => new Jimeng({ provider, clock: { now: setup.time.now }, sleep: setup.time.sleep }),
    sleep: setup.time.sleep,
    clock: setup.time.now,
    ...(qps !== undefined ? { qps } : {}),
  });
  return { ms: performance.now() - started, succeeded: result.report.succeeded };
}

/** A naive client: 16 at a time, submit (again after a second when throttled), poll every second, download. */
async function runNaive(setup: Setup, list: BatchJob[]) {
  const { provider, time } = setup;
  const model = provider.resolveModel(MODEL, "generate");
  const transport = new HttpTransport();
  const limit = pLimit(CONCURRENCY);
  let succeeded = 0;
  const started = performance.now();
  await Promise.all(
    list.map((job) =>
      limit(async () => {
        for (;;) {
          try {
            const ref = await provider.submit({
              kind: "generate",
              prompt: job.prompt,
              model,
              images: [],
            });
            const result = await waitForTask(
              provider,
              ref,
              { timeout: 600_000 },
              { clock: { now: time.now }, sleep: time.sleep, random: Math.random, schedule: FIXED_1S },
            );
            await downloadOutputs(result.status.outputs, {
              dir: setup.out,
              name: "naive-{id}-{index}",
              context: { prompt: job.prompt, model: MODEL, taskId: ref.taskId, id: job.id },
              transport,
              sleep: time.sleep,
            });
            succeeded++;
            return;
          } catch (error) {
            if (!isThrottle(error)) return;
            await time.sleep(1000);
          }
        }
      }),
    ),
  );
  await transport.close();
  return { ms: performance.now() - started, succeeded };
}

/** A minimal environment for the built bin, configured against `emulator`, its config folder in `dir`. */
export function benchCliEnv(emulator: RunningEmulator, dir: string, pollInterval: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    CI: "1",
    ...emulatorSettings(emulator, path.join(dir, "config")),
    JIMENG_POLL_INTERVAL: pollInterval,
  };
}

/** Peak resident memory of a running process (VmHWM), in bytes; undefined once it has gone. */
export function peakRssOf(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `jimeng batch` itself, as a user runs it: the built bin in its own process against an emulator in this one
 * (scaled time; polls capped at 100 ms real time). Returns the child's peak RSS and wall time.
 */
async function runCliBatch(total: number): Promise<{ peakBytes: number; ms: number; code: number | null }> {
  const emulator = await startEmulator({
    timeScale: SCALE,
    durations: { image: GENERATION_MS },
    imageSize: 64,
  });
  const dir = await mkdtemp(path.join(tmpdir(), "jimeng-bench-cli-batch-"));
  try {
    const file = path.join(dir, "jobs.txt");
    await writeFile(file, Array.from({ length: total }, (_, index) => `cli batch ${index}`).join("\n"));
    const env = benchCliEnv(emulator, dir, "100ms");
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [BIN, "batch", file, "-o", path.join(dir, "out"), "-c", String(CONCURRENCY), "-m", MODEL, "-q"],
      {
        env,
        stdio: "ignore",
      },
    );
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, child.pid ? (peakRssOf(child.pid) ?? 0) : 0);
    }, 25);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearInterval(sampler);
    return { peakBytes: peak, ms: performance.now() - started, code };
  } finally {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const run: Bench = async ({ quick }) => {
  const figures: BenchFigure[] = [];
  const total = quick ? 40 : 1000;

  // 1. Makespan and memory.
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const setup = await setUp();
  try {
    const ours = await runOurs(setup, jobs(total, "makespan"));
    const generationReal = GENERATION_MS / SCALE;
    const ideal = Math.ceil(total / CONCURRENCY) * generationReal;
    const ratio = round(ours.ms / ideal);
    figures.push({
      suite: SUITE,
      name: `makespan, ${total} jobs at -c ${CONCURRENCY}`,
      value: Math.round(ours.ms),
      unit: "ms",
      baseline: { name: `ideal ⌈N/c⌉ × ${generationReal} ms`, value: ideal },
      ratio,
      target: "≤ 1.10×",
      met: ratio <= 1.1,
      note: `${ours.succeeded}/${total} succeeded; ${setup.emulator.counters.polls} polls; 10 s generations at ${SCALE}× time`,
    });
  } finally {
    clearInterval(sampler);
    await setup.close();
  }
  const rssMb = round(peakRss / 1024 / 1024, 1);
  figures.push({
    suite: SUITE,
    name: `peak RSS of this process, ${total} jobs (emulator and tsx included)`,
    value: rssMb,
    unit: "MB",
    note: `${round((peakRss - startRss) / 1024 / 1024, 1)} MB above the ${round(startRss / 1024 / 1024, 1)} MB the process had before the batch`,
  });
  const cli = await runCliBatch(total);
  const cliMb = round(cli.peakBytes / 1024 / 1024, 1);
  figures.push({
    suite: SUITE,
    name: `peak RSS of \`jimeng batch\`, ${total} jobs at -c ${CONCURRENCY}`,
    value: cliMb,
    unit: "MB",
    target: "≤ 150 MB",
    met: cli.code === 0 && cliMb <= 150,
    note: `the CLI in its own process (exit ${cli.code}, ${round(cli.ms / 1000, 1)} s), emulator in the bench process`,
  });

  // 2. Under an emulator QPS cap of 10: --qps 10 against a naive fixed 1 s poller.
  const capped = quick ? 24 : 160;
  const oursSetup = await setUp(10);
  let oursCapped: { ms: number; succeeded: number };
  let oursRequests: number;
  let oursThrottled: number;
  try {
    oursCapped = await runOurs(oursSetup, jobs(capped, "ours"), 10);
    oursRequests = oursSetup.emulator.counters.submits + oursSetup.emulator.counters.polls;
    oursThrottled = oursSetup.emulator.counters.faults["throttle-qps"] ?? 0;
  } finally {
    await oursSetup.close();
  }
  const naiveSetup = await setUp(10);
  let naive: { ms: number; succeeded: number };
  let naiveRequests: number;
  let naiveThrottled: number;
  try {
    naive = await runNaive(naiveSetup, jobs(capped, "naive"));
    naiveRequests = naiveSetup.emulator.counters.submits + naiveSetup.emulator.counters.polls;
    naiveThrottled = naiveSetup.emulator.counters.faults["throttle-qps"] ?? 0;
  } finally {
    await naiveSetup.close();
  }
  const virtualSeconds = (ms: number) => round((ms * SCALE) / 1000, 1);
  figures.push(
    {
      suite: SUITE,
      name: `makespan under a 10 QPS cap, ${capped} jobs (virtual time)`,
      value: virtualSeconds(oursCapped.ms),
      unit: "s",
      baseline: { name: "naive 1 s poller", value: virtualSeconds(naive.ms) },
      ratio: round(oursCapped.ms / naive.ms),
      note: `succeeded: ours ${oursCapped.succeeded}/${capped}, naive ${naive.succeeded}/${capped}`,
    },
    {
      suite: SUITE,
      name: "submits + polls under the cap",
      value: oursRequests,
      unit: "requests",
      baseline: { name: "naive 1 s poller", value: naiveRequests },
      ratio: round(oursRequests / naiveRequests),
    },
    {
      suite: SUITE,
      name: "requests refused by the QPS cap (429)",
      value: oursThrottled,
      unit: "requests",
      baseline: { name: "naive 1 s poller", value: naiveThrottled },
    },
  );
  return figures;
};
