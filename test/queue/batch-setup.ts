/**
 * A `jimeng batch --redis` setup for tests: a real redis-server, an emulator in the test process (it outlives
 * killed workers and counts every submit), a shared data folder, a batch file, and helpers that start
 * `jimeng worker` processes and the batch itself (the built bin: `npm run build` first). Everything is closed
 * by `closeBatchSetups()` (call it in afterEach).
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Queue } from "bullmq";
import { expect } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { QUEUE_NAME, redisTarget } from "../../src/queue/bullmq.js";
import { type CliRun, emulatorEnv, runCli, tempDir } from "../e2e/batch-cli.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

const cleanups: (() => Promise<void>)[] = [];

export async function closeBatchSetups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export interface BatchSetup {
  redis: TestRedis;
  emulator: RunningEmulator;
  /** The shared data folder (workers and the batch). */
  data: string;
  file: string;
  out: string;
  env: NodeJS.ProcessEnv;
  worker(args?: readonly string[], env?: NodeJS.ProcessEnv): Promise<WorkerProcess>;
  batch(args?: readonly string[]): CliRun;
  queued(): Promise<Record<string, number>>;
  /** The queue, as the batch and the workers see it. */
  queue: Queue;
}

/** Jobs `{ id, prompt: "job <id>" }`: `filesMatch` finds each one's emulator task by that prompt. */
export const jobs = (ids: readonly string[]) => ids.map((id) => ({ id, prompt: `job ${id}` }));

export async function batchSetup(
  lines: readonly object[],
  imageMs = 30,
  emulatorOptions: EmulatorOptions = {},
): Promise<BatchSetup> {
  const redis = await startRedis();
  cleanups.push(() => redis.close());
  const emulator = await startEmulator({
    durations: { image: imageMs, video: imageMs * 2 },
    imageSize: 64,
    ...emulatorOptions,
  });
  cleanups.push(() => emulator.stop());
  const temp = await tempDir("jimeng-redis-batch-");
  cleanups.push(() => temp.cleanup());
  const data = path.join(temp.dir, "shared");
  const file = path.join(temp.dir, "jobs.jsonl");
  await writeFile(file, lines.map((job) => JSON.stringify(job)).join("\n"));
  const env = { ...emulatorEnv(emulator, temp.dir), JIMENG_POLL_INTERVAL: "20ms" };
  const queue = new Queue(QUEUE_NAME, {
    connection: redisTarget(redis.url).connection,
    prefix: redis.prefix,
  });
  cleanups.push(() => queue.close());
  return {
    redis,
    emulator,
    data,
    file,
    out: path.join(data, "out"),
    env,
    async worker(args = [], workerEnv = {}) {
      const started = await startWorker({
        redisUrl: redis.url,
        prefix: redis.prefix,
        data,
        emulator,
        configDir: temp.dir,
        args,
        env: workerEnv,
      });
      cleanups.push(async () => {
        await started.stop(true);
      });
      return started;
    },
    batch(args = []) {
      const run = runCli(
        [
          "--json",
          "batch",
          file,
          "--redis",
          redis.url,
          "--redis-prefix",
          redis.prefix,
          "--data",
          data,
          "-o",
          path.join(data, "out"),
          ...args,
        ],
        { env, cwd: temp.dir },
      );
      cleanups.push(async () => {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
        await run.exited;
      });
      return run;
    },
    queue,
    queued: () => queue.getJobCounts("waiting", "delayed", "active", "completed", "failed"),
  };
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Every job's files are in the output folder with the sha256 the emulator made for its prompt. */
export async function filesMatch(
  set: BatchSetup,
  report: { jobs: { id: string; files: { file: string }[] }[] },
): Promise<void> {
  for (const job of report.jobs) {
    const emulated = set.emulator.tasks().find((task) => task.prompt === `job ${job.id}`);
    expect(job.files.length, job.id).toBeGreaterThan(0);
    for (const [index, entry] of job.files.entries()) {
      const bytes = await readFile(path.join(set.out, entry.file));
      expect(sha256(bytes), `${job.id} ${entry.file}`).toBe(emulated?.outputs[index]?.sha256);
    }
  }
}
