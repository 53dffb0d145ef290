/**
 * A running batch's memory is flat in the number of jobs: the peak RSS (VmHWM) of the built `jimeng batch`,
 * in its own process, running N jobs of a `.txt` file against the emulator in this process (scaled time:
 * 5 s generations at 100×, polls capped at 20 ms real time), at 20 000 jobs and at 200 000. Target: the
 * 200 000-job peak within 30 MB of the 20 000-job peak. The smoke mode runs 100 and 1 000 jobs.
 * `JIMENG_BENCH_BATCH_SIZES=2000,20000` picks other sizes (a 200 000-job run takes about half an hour on a
 * busy 2-core machine); the target is only judged at its own sizes.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmulator } from "../../src/emulator/server.js";
import { BIN } from "../helpers/cli.js";
import { benchCliEnv, peakRssOf } from "./batch.js";
import type { Bench, BenchFigure } from "./types.js";

const SCALE = 100;
const GENERATION_MS = 5_000;
const CONCURRENCY = 128;
const MODEL = "jimeng_t2i_v31";
const TARGET_MB = 30;

async function writeJobs(file: string, count: number): Promise<void> {
  const stream = createWriteStream(file);
  for (let index = 0; index < count; index++) {
    if (!stream.write(`a lighthouse on a cliff at dawn, watercolor, variation ${index}\n`)) {
      await once(stream, "drain");
    }
  }
  stream.end();
  await once(stream, "close");
}

interface Run {
  peakBytes: number;
  ms: number;
  code: number | null;
  succeeded: number | undefined;
}

async function runningPeak(count: number): Promise<Run> {
  const emulator = await startEmulator({
    timeScale: SCALE,
    durations: { image: GENERATION_MS },
    imageSize: 16,
  });
  const dir = await mkdtemp(path.join(tmpdir(), "jimeng-bench-running-"));
  try {
    const file = path.join(dir, "jobs.txt");
    const out = path.join(dir, "out");
    await writeJobs(file, count);
    const env = benchCliEnv(emulator, dir, "20ms");
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [BIN, "batch", file, "-o", out, "-c", String(CONCURRENCY), "-m", MODEL, "-q"],
      { env, stdio: "ignore" },
    );
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, child.pid ? (peakRssOf(child.pid) ?? 0) : 0);
    }, 25);
    const [code] = (await once(child, "exit")) as [number | null];
    clearInterval(sampler);
    const ms = performance.now() - started;
    const report = await readFile(path.join(out, "report.json"), "utf8").catch(() => undefined);
    const succeeded =
      report === undefined ? undefined : (JSON.parse(report) as { succeeded: number }).succeeded;
    return { peakBytes: peak, ms, code, succeeded };
  } finally {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export const run: Bench = async ({ quick }) => {
  const sizes = process.env.JIMENG_BENCH_BATCH_SIZES?.split(",").map(Number);
  const [small, large] =
    sizes?.length === 2 && sizes.every((size) => Number.isInteger(size) && size > 0)
      ? (sizes as [number, number])
      : quick
        ? [100, 1_000]
        : [20_000, 200_000];
  const first = await runningPeak(small);
  const second = await runningPeak(large);
  const growth = Math.round((mb(second.peakBytes) - mb(first.peakBytes)) * 10) / 10;
  const note = (result: Run, count: number) =>
    `exit ${result.code}, ${result.succeeded ?? "?"}/${count} succeeded, ${Math.round(result.ms / 100) / 10} s`;
  const figures: BenchFigure[] = [
    {
      suite: "batch-memory",
      name: `peak RSS of a running \`jimeng batch\`, ${small} jobs at -c ${CONCURRENCY}`,
      value: mb(first.peakBytes),
      unit: "MB",
      note: note(first, small),
    },
    {
      suite: "batch-memory",
      name: `peak RSS of a running \`jimeng batch\`, ${large} jobs at -c ${CONCURRENCY}`,
      value: mb(second.peakBytes),
      unit: "MB",
      baseline: { name: `${small} jobs`, value: mb(first.peakBytes) },
      target: `≤ +${TARGET_MB} MB over ${small} jobs (20 000 → 200 000)`,
      met:
        small === 20_000 && large === 200_000
          ? growth <= TARGET_MB && first.code === 0 && second.code === 0
          : undefined,
      note: `${growth >= 0 ? "+" : ""}${growth} MB; ${note(second, large)}; emulator in the bench process, ${GENERATION_MS / 1000} s generations at ${SCALE}× time`,
    },
  ];
  return figures;
};
