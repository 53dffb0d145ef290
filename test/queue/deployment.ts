/**
 * A `serve --redis` deployment for tests: a real redis-server, an emulator, a shared data folder, and as many
 * API nodes (in process) and workers (in process; worker-process.ts starts them as processes) as a test asks
 * for. Everything is closed by `closeAll()` (call it in afterEach).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { createProvider } from "../../src/providers/create.js";
import { redisTarget } from "../../src/queue/bullmq.js";
import { QueueWorker, type QueueWorkerOptions } from "../../src/queue/redis-worker.js";
import { createServer, type RunningServer } from "../../src/server/server.js";
import { tempDir } from "../e2e/batch-cli.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

const cleanups: (() => Promise<void>)[] = [];

export async function closeAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON documents that the assertions check.
export type Json = any;

export interface Deployment {
  redis: TestRedis;
  emulator: RunningEmulator;
  data: string;
  node(): Promise<RunningServer>;
  worker(options?: Partial<QueueWorkerOptions>): Promise<QueueWorker>;
  /** A folder of its own for a worker process's config. */
  configDir: string;
}

export async function deployment(
  emulatorOptions: Parameters<typeof startEmulator>[0] = {},
  redisOptions: { appendonly?: boolean } = {},
): Promise<Deployment> {
  const redis = await startRedis(redisOptions);
  cleanups.push(() => redis.close());
  const emulator = await startEmulator({ durations: { image: 30, video: 60 }, ...emulatorOptions });
  cleanups.push(() => emulator.stop());
  const temp = await tempDir("jimeng-redis-serve-");
  cleanups.push(() => temp.cleanup());
  const target = redisTarget(redis.url, { prefix: redis.prefix });
  const provider = () =>
    createProvider({
      provider: "visual",
      accessKeyId: emulator.credentials.accessKeyId,
      secretAccessKey: emulator.credentials.secretAccessKey,
      endpoint: emulator.url,
    });
  return {
    redis,
    emulator,
    data: temp.dir,
    configDir: temp.dir,
    async node() {
      const server = await createServer({
        provider: provider(),
        data: temp.dir,
        redis: target,
        reconcileMs: 200,
      });
      cleanups.push(() => server.close());
      return server;
    },
    async worker(options = {}) {
      const worker = new QueueWorker({
        target,
        provider: provider(),
        data: temp.dir,
        maxPollIntervalMs: 10,
        stallTimeoutMs: 1000,
        ...options,
      });
      cleanups.push(() => worker.close(0));
      await worker.start();
      return worker;
    },
  };
}

export async function call(server: RunningServer, method: string, url: string, key: string, body?: unknown) {
  const response = await server.app.inject({
    method: method as "GET",
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: response.statusCode, body: response.json() as Json };
}

export async function until(server: RunningServer, id: string, key: string, done: (task: Json) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const { body } = await call(server, "GET", `/api/v1/tasks/${encodeURIComponent(id)}`, key);
    if (done(body.data)) return body.data;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`task ${id} never got there`);
}

/** True when the stored task's first file has the sha256 the emulator made. */
export async function outputMatches(deploy: Deployment, server: RunningServer, id: string, prompt: string) {
  const emulated = deploy.emulator.tasks().find((task) => task.prompt === prompt);
  const stored = server.store.getTask(id);
  const file = stored?.outputs[0]?.file;
  if (!emulated || !file) return false;
  const bytes = await readFile(path.join(server.store.filesDir, file));
  return createHash("sha256").update(bytes).digest("hex") === emulated.outputs[0]?.sha256;
}
