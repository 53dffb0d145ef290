/**
 * `npm run bench -- --only=redis`: the shared BullMQ queue with `jimeng worker` processes (the built bin) on a
 * real redis-server, the emulator in this process at scaled time.
 *
 * - throughput with 1, 2 and 4 workers at the same per-worker concurrency (generation time dominates);
 * - a batch across 3 workers with one killed (kill -9) every few seconds and started again: lost jobs,
 *   duplicate upstream submits (those of jobs a kill caught mid-submit, which the uncertain-submit rule
 *   submits again by default, told apart from any other), files whose sha256 differs from the emulator's;
 * - 4 workers sharing `--upstream-qps 10` against an emulator that throttles above 10 requests in any second;
 * - Redis (appendonly) killed and restarted mid-batch.
 *
 * The throughput and QPS rows add jobs straight to the queue, as `serve --redis` does: they measure the
 * workers. The kill -9 and Redis-restart rows run the real thing: a `jimeng batch --redis` process over a
 * generated .jsonl, its figures read from the batch's own report.json, the emulator's submit counts and the
 * sha256 of every file the report names. Needs redis-server (skipped otherwise).
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import type { BatchReport } from "../../src/batch/report.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { QUEUE_NAME, redisTarget } from "../../src/queue/bullmq.js";
import { jobIdFor, type QueueJobData, type QueueJobResult } from "../../src/queue/job-data.js";
import { type CliRun, emulatorEnv, runCli, tempDir } from "../e2e/batch-cli.js";
import { REDIS_SERVER, startRedis, type TestRedis } from "../helpers/redis.js";
import { startWorker, type WorkerProcess } from "../queue/worker-process.js";
import type { Bench, BenchFigure } from "./types.js";

interface Setup {
  redis: TestRedis;
  emulator: RunningEmulator;
  data: string;
  queue: Queue<QueueJobData, QueueJobResult>;
  /** The running workers (a killed one leaves this list). */
  workers: WorkerProcess[];
  /** What every worker (killed ones included) and batch process wrote to stderr. */
  stderr(): string;
  worker(args?: readonly string[]): Promise<WorkerProcess>;
  /** Starts `jimeng batch --redis` over `name`.jsonl (see `writeJobs`), its output in `<data>/<name>`. */
  batch(name: string, args?: readonly string[]): CliRun;
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
  // The Redis-restart row kills Redis under this connection; ioredis reconnects by itself.
  queue.on("error", () => {});
  const workers: WorkerProcess[] = [];
  const everyWorker: WorkerProcess[] = [];
  const batches: CliRun[] = [];
  return {
    redis,
    emulator,
    data: temp.dir,
    queue,
    workers,
    stderr: () =>
      [...everyWorker.map((worker) => worker.run), ...batches].map((run) => run.stderr()).join("\n"),
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
      everyWorker.push(started);
      return started;
    },
    batch(name, args = []) {
      const run = runCli(
        [
          "--json",
          "batch",
          path.join(temp.dir, `${name}.jsonl`),
          "--redis",
          redis.url,
          "--redis-prefix",
          redis.prefix,
          "--data",
          temp.dir,
          "-o",
          path.join(temp.dir, name),
          ...args,
        ],
        { env: { ...emulatorEnv(emulator, temp.dir), JIMENG_POLL_INTERVAL: "100ms" }, cwd: temp.dir },
      );
      batches.push(run);
      return run;
    },
    async close() {
      for (const run of batches) {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
        await run.exited;
      }
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

/** Starts `count` workers side by side (each takes a second or so to load). */
async function startWorkers(setup: Setup, count: number, args: readonly string[]): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => setup.worker(args)));
}

async function throughput(workers: number, perWorker: number, jobsPerWorker: number, imageMs: number) {
  const bench = await setup({ durations: { image: imageMs } });
  try {
    await startWorkers(bench, workers, ["-c", String(perWorker)]);
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

/** `<data>/<name>.jsonl`: `count` image jobs whose prompt is their id (the emulator's tasks are found by it). */
async function writeJobs(setup: Setup, name: string, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ id: `${name}-${i}`, prompt: `${name}-${i}` }),
  );
  await writeFile(path.join(setup.data, `${name}.jsonl`), `${lines.join("\n")}\n`);
}

/** Resolves with the batch's exit code, or kills it (null) after `limitMs`. */
async function batchExit(run: CliRun, limitMs: number): Promise<number | null> {
  const timer = setTimeout(() => run.child.kill("SIGKILL"), limitMs);
  try {
    return (await run.exited).code;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Per job id, how often it was submitted again under the uncertain-submit rule (its paid request was in flight
 * when its worker was killed, or Redis lost its job, before an upstream id was recorded), from the warning the
 * worker or the batch process prints each time.
 */
function uncertainResubmits(setup: Setup): Map<string, number> {
  const counts = new Map<string, number>();
  const warning =
    /job (\S+) was (?:mid-submit when its worker stopped|lost by the queue while a worker held it, before its upstream task id was recorded)/g;
  for (const [, id] of setup.stderr().matchAll(warning)) {
    counts.set(id as string, (counts.get(id as string) ?? 0) + 1);
  }
  return counts;
}

/**
 * What the batch's report.json says, checked against the emulator: jobs with no outcome (lost), extra
 * upstream submits of a job (duplicates; `unexplained`: those the uncertain-submit rule does not account
 * for, which no kill can excuse), files whose sha256 is not the emulator's (mismatched).
 */
async function checkBatch(setup: Setup, name: string, count: number) {
  const out = path.join(setup.data, name);
  const report = await readFile(path.join(out, "report.json"), "utf8").then(
    (text) => JSON.parse(text) as BatchReport,
    () => undefined,
  );
  const expected = new Map(setup.emulator.tasks().map((task) => [task.prompt, task.outputs]));
  let mismatched = 0;
  for (const job of report?.jobs ?? []) {
    if (job.status !== "succeeded") continue;
    const want = expected.get(job.id) ?? [];
    if (job.files.length === 0 || job.files.length !== want.length) mismatched++;
    for (const [index, entry] of job.files.entries()) {
      const bytes = await readFile(path.join(out, entry.file)).catch(() => undefined);
      if (!bytes || createHash("sha256").update(bytes).digest("hex") !== want[index]?.sha256) mismatched++;
    }
  }
  const succeeded = report?.succeeded ?? 0;
  const failed = report?.failed ?? 0;
  const uncertainFailures = (report?.jobs ?? []).filter(
    (job) => job.status !== "succeeded" && job.error?.code === "UNCERTAIN_SUBMIT",
  ).length;
  const resubmitted = uncertainResubmits(setup);
  let duplicates = 0;
  let unexplained = 0;
  for (const [prompt, submits] of Object.entries(setup.emulator.counters.tasksByPrompt)) {
    duplicates += submits - 1;
    unexplained += Math.max(0, submits - 1 - (resubmitted.get(prompt) ?? 0));
  }
  return {
    total: report?.total ?? 0,
    succeeded,
    failed,
    uncertainFailures,
    lost: count - succeeded - failed,
    duplicates,
    unexplained,
    mismatched,
  };
}

type BatchCheck = Awaited<ReturnType<typeof checkBatch>>;

/**
 * `strict`: workers and batch ran with `--no-resubmit-uncertain`, so a job caught mid-submit is reported failed
 * (`UNCERTAIN_SUBMIT`: kept, not lost) instead of being submitted again, and no duplicate is excused.
 */
function batchFigure(
  name: string,
  exit: number | null,
  check: BatchCheck,
  seconds: number,
  strict = false,
): BenchFigure {
  const { total, succeeded, failed, uncertainFailures, lost, duplicates, unexplained, mismatched } = check;
  const failuresOk = strict ? failed === uncertainFailures : failed === 0;
  return {
    suite: "redis",
    name,
    value: lost,
    unit: "lost",
    target: "0 lost, 0 dup, sha256 ok",
    met: exit === (failed > 0 ? 1 : 0) && lost === 0 && failuresOk && duplicates === 0 && mismatched === 0,
    note: `${duplicates} duplicate upstream submits (${duplicates - unexplained} by the uncertain-submit rule, ${unexplained} otherwise), ${mismatched} sha256 mismatches; report ${succeeded}/${total} succeeded, ${failed} failed (${uncertainFailures} UNCERTAIN_SUBMIT); batch exit ${exit ?? "killed"}, ${seconds.toFixed(1)} s`,
  };
}

/** A `jimeng batch --redis` run across 3 workers, the oldest killed (kill -9) every `everyMs` and started again. */
async function chaos(count: number, everyMs: number, quick: boolean, strict = false): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 200 } });
  const workerArgs = ["-c", "8", ...(strict ? ["--no-resubmit-uncertain"] : [])];
  let kills = 0;
  let timer: NodeJS.Timeout | undefined;
  const restarts: Promise<unknown>[] = [];
  try {
    await startWorkers(bench, 3, workerArgs);
    await writeJobs(bench, "chaos", count);
    const started = performance.now();
    const run = bench.batch("chaos", strict ? ["--no-resubmit-uncertain"] : []);
    timer = setInterval(() => {
      const victim = bench.workers.shift();
      if (!victim) return;
      kills++;
      restarts.push(victim.stop(true).then(() => bench.worker(workerArgs)));
    }, everyMs);
    const exit = await batchExit(run, quick ? 120_000 : 900_000);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    await Promise.allSettled(restarts);
    const check = await checkBatch(bench, "chaos", count);
    return batchFigure(
      `batch --redis, ${count} jobs, 3 workers, kill -9 every ${everyMs / 1000} s (× ${kills})${strict ? ", --no-resubmit-uncertain" : ""}`,
      exit,
      check,
      seconds,
      strict,
    );
  } finally {
    clearInterval(timer);
    await Promise.allSettled(restarts);
    await bench.close();
  }
}

async function qpsCap(count: number): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 300 }, faults: { qps: 10 } });
  try {
    await startWorkers(bench, 4, ["-c", "4", "--upstream-qps", "10"]);
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

/** Resolves once the queue has `count` completed jobs (or the batch ended first). */
async function completedOnQueue(bench: Setup, count: number, run: CliRun): Promise<void> {
  while (run.child.exitCode === null && run.child.signalCode === null) {
    if (((await bench.queue.getJobCounts("completed")).completed ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A `jimeng batch --redis` run whose Redis (appendonly) is killed (kill -9) after a third of its jobs. */
async function redisRestart(count: number, quick: boolean): Promise<BenchFigure> {
  const bench = await setup({ durations: { image: 200 } }, true);
  try {
    await startWorkers(bench, 3, ["-c", "8"]);
    await writeJobs(bench, "restart", count);
    const started = performance.now();
    const run = bench.batch("restart");
    await completedOnQueue(bench, Math.ceil(count / 3), run);
    await bench.redis.stop(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await bench.redis.restart();
    const exit = await batchExit(run, quick ? 120_000 : 600_000);
    const seconds = (performance.now() - started) / 1000;
    const check = await checkBatch(bench, "restart", count);
    return batchFigure(
      `batch --redis, Redis (appendonly) kill -9 + restart after 1/3 of ${count} jobs`,
      exit,
      check,
      seconds,
    );
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
  // The same with the uncertain-submit rule set to fail: no duplicate is excused there.
  if (!quick) figures.push(await chaos(2000, 10_000, quick, true));
  figures.push(await qpsCap(quick ? 12 : 60));
  figures.push(await redisRestart(quick ? 30 : 300, quick));
  return figures;
};
