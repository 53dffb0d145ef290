/**
 * `npm run bench -- --only=redis`: the shared BullMQ queue with `jimeng worker` processes (the built bin) on a
 * real redis-server, the emulator in this process at scaled time.
 *
 * - throughput with 1, 2 and 4 workers at the same per-worker concurrency (generation time dominates);
 * - a batch across 3 workers with one killed (kill -9) every few seconds and started again: lost jobs,
 *   duplicate upstream submits, files whose sha256 differs from the emulator's;
 * - 4 workers sharing `--upstream-qps 10` against an emulator that throttles above 10 requests in any second;
 * - Redis (appendonly) killed and restarted mid-batch.
 *
 * Jobs are added straight to the queue, as `serve --redis` adds them. Needs redis-server (skipped otherwise).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { QUEUE_NAME, redisTarget } from "../../src/queue/bullmq.js";
import { jobIdFor, type QueueJobData, type QueueJobResult } from "../../src/queue/job-data.js";
import { tempDir } from "../e2e/batch-cli.js";
import { REDIS_SERVER, startRedis, type TestRedis } from "../helpers/redis.js";
import { startWorker, type WorkerProcess } from "../queue/worker-process.js";
import type { Bench, BenchFigure } from "./types.js";

interface Setup {
  redis: TestRedis;
  emulator: RunningEmulator;
  data: string;
  queue: Queue<QueueJobData, QueueJobResult>;
  workers: WorkerProcess[];
  worker(args?: readonly string[]): Promise<WorkerProcess>;
  close(): Promise<void>;
}

async function setup(emulatorOptions: EmulatorOptions, appendonly = false): Promise<Setup> {
  const redis = await startRedis({ appendonly });
  const emulator = await startEmulator({ imageSize: 64, ...emulatorOptions });
  const temp = await tempDir("jimeng-bench-redis-");
  const queue = new Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, {
    connection: redisTarget(redis.url).connection,
    prefix: redis.prefix,
  });
  const workers: WorkerProcess[] = [];
  return {
    redis,
    emulator,
    data: temp.dir,
    queue,
    workers,
    async worker(args = []) {
      const started = await startWorker({
        redisUrl: redis.url,
        prefix: redis.prefix,
        data: temp.dir,
        emulator,
        configDir: temp.dir,
        args: ["--stall-timeout", "2s", ...args],
        pollInterval: "100ms",
      });
      workers.push(started);
      return started;
    },
    async close() {
      for (const worker of workers) await worker.stop(true);
      await queue.close();
      await emulator.stop();
      await redis.close();
      await temp.cleanup();
    },
  };
}

async function addJobs(queue: Queue<QueueJobData, QueueJobResult>, prefix: string, count: number) {
  const jobs = Array.from({ length: count }, (_, i) => {
    const taskId = `${prefix}-${i}`;
    const data: QueueJobData = {
      taskId,
      request: { kind: "generate", prompt: taskId },
      folder: taskId,
      submits: 0,
    };
    return { name: "task", data, opts: { jobId: jobIdFor(taskId) } };
  });
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
}

async function finished(queue: Queue<QueueJobData, QueueJobResult>, count: number, limitMs: number) {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const counts = await queue.getJobCounts("completed", "failed");
    const done = (counts.completed ?? 0) + (counts.failed ?? 0);
    if (done >= count || performance.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Completed jobs whose every file matches the emulator's sha256, and the number that do not. */
async function verify(setup: Setup, prefix: string, count: number) {
  const expected = new Map(setup.emulator.tasks().map((task) => [task.prompt, task.outputs]));
  let lost = 0;
  let mismatched = 0;
  for (let i = 0; i < count; i++) {
    const job = await setup.queue.getJob(jobIdFor(`${prefix}-${i}`));
    const outputs = job?.returnvalue?.outputs;
    if (!outputs || outputs.length === 0) {
      lost++;
      continue;
    }
    const want = expected.get(`${prefix}-${i}`) ?? [];
    for (const [index, output] of outputs.entries()) {
      const bytes = await readFile(path.join(setup.data, "files", output.file));
      if (createHash("sha256").update(bytes).digest("hex") !== want[index]?.sha256) mismatched++;
    }
  }
  const duplicates = Object.values(setup.emulator.counters.tasksByPrompt).reduce((sum, n) => sum + n - 1, 0);
  return { lost, mismatched, duplicates };
}

async function throughput(workers: number, perWorker: number, jobsPerWorker: number, imageMs: number) {
  const bench = await setup({ durations: { image: imageMs } });
  try {
    for (let i = 0; i < workers; i++) await bench.worker(["-c", String(perWorker)]);
    const count = workers * jobsPerWorker;
    const started = performance.now();
    await addJobs(bench.queue, `w${workers}`, count);
    const counts = await finished(bench.queue, count, 300_000);
    const seconds = (performance.now() - started) / 1000;
    return { jobsPerSecond: (counts.completed ?? 0) / seconds, completed: counts.completed ?? 0 };
  } finally {
    await bench.close();
  }
}

async function chaos(count: number, everyMs: number, quick: boolean): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 200 } });
  let kills = 0;
  let timer: NodeJS.Timeout | undefined;
  const restarts: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < 3; i++) await bench.worker(["-c", "8"]);
    const started = performance.now();
    await addJobs(bench.queue, "chaos", count);
    timer = setInterval(() => {
      const victim = bench.workers.shift();
      if (!victim) return;
      kills++;
      restarts.push(victim.stop(true).then(() => bench.worker(["-c", "8"])));
    }, everyMs);
    const counts = await finished(bench.queue, count, quick ? 120_000 : 900_000);
    clearInterval(timer);
    await Promise.allSettled(restarts);
    const seconds = (performance.now() - started) / 1000;
    const { lost, mismatched, duplicates } = await verify(bench, "chaos", count);
    return {
      suite: "redis",
      name: `${count} jobs, 3 workers, kill -9 every ${everyMs / 1000} s (× ${kills})`,
      value: lost,
      unit: "lost",
      target: "0 lost, 0 dup, sha256 ok",
      met: lost === 0 && duplicates === 0 && mismatched === 0,
      note: `${duplicates} duplicate upstream submits, ${mismatched} sha256 mismatches, ${counts.failed ?? 0} failed, ${seconds.toFixed(1)} s`,
    };
  } finally {
    clearInterval(timer);
    await Promise.allSettled(restarts);
    await bench.close();
  }
}

async function qpsCap(count: number): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 300 }, faults: { qps: 10 } });
  try {
    for (let i = 0; i < 4; i++) await bench.worker(["-c", "4", "--upstream-qps", "10"]);
    bench.emulator.resetCounters();
    const started = performance.now();
    await addJobs(bench.queue, "qps", count);
    await finished(bench.queue, count, 300_000);
    const seconds = (performance.now() - started) / 1000;
    const { submits, polls, downloads, faults } = bench.emulator.counters;
    const requests = submits + polls;
    const over = faults["throttle-qps"] ?? 0;
    return {
      suite: "redis",
      name: `4 workers sharing --upstream-qps 10, ${count} jobs`,
      value: over,
      unit: "requests over 10 in a 1 s window",
      target: "0",
      met: over === 0,
      note: `${requests} submits + polls in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(1)}/s), ${downloads} downloads`,
    };
  } finally {
    await bench.close();
  }
}

async function redisRestart(count: number): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 200 } }, true);
  try {
    for (let i = 0; i < 3; i++) await bench.worker(["-c", "8"]);
    await addJobs(bench.queue, "restart", count);
    await finished(bench.queue, Math.ceil(count / 3), 120_000);
    await bench.redis.stop(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await bench.redis.restart();
    const counts = await finished(bench.queue, count, 300_000);
    const { lost, mismatched, duplicates } = await verify(bench, "restart", count);
    return {
      suite: "redis",
      name: `Redis (appendonly) kill -9 + restart after 1/3 of ${count} jobs`,
      value: lost,
      unit: "lost",
      target: "0 lost",
      met: lost === 0 && duplicates === 0 && mismatched === 0,
      note: `${duplicates} duplicate submits, ${mismatched} sha256 mismatches, ${counts.failed ?? 0} failed`,
    };
  } finally {
    await bench.close();
  }
}

export const run: Bench = async ({ quick }) => {
  if (!REDIS_SERVER) {
    process.stderr.write("redis bench did not run: no redis-server (apt-get install -y redis-server)\n");
    return [];
  }
  const imageMs = quick ? 300 : 1000;
  const perWorker = 4;
  const jobsPerWorker = quick ? 8 : 40;
  const rates: number[] = [];
  const figures: BenchFigure[] = [];
  for (const workers of [1, 2, 4]) {
    const { jobsPerSecond } = await throughput(workers, perWorker, jobsPerWorker, imageMs);
    rates.push(jobsPerSecond);
    const ratio = Math.round((jobsPerSecond / (rates[0] as number)) * 100) / 100;
    figures.push({
      suite: "redis",
      name: `throughput, ${workers} worker${workers > 1 ? "s" : ""} × -c ${perWorker} (${imageMs} ms images)`,
      value: Math.round(jobsPerSecond * 100) / 100,
      unit: "jobs/s",
      ...(workers > 1
        ? { baseline: { name: "1 worker", value: Math.round((rates[0] as number) * 100) / 100 }, ratio }
        : {}),
      ...(workers === 4 ? { target: "≥ 3.5×", met: ratio >= 3.5 } : {}),
    });
  }
  figures.push(await chaos(quick ? 60 : 2000, quick ? 2000 : 10_000, quick));
  figures.push(await qpsCap(quick ? 12 : 60));
  figures.push(await redisRestart(quick ? 30 : 300));
  return figures;
};
