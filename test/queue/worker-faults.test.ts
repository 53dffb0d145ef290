import { afterEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/server.js";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { call, closeAll, type Deployment, deployment, outputMatches, until } from "./deployment.js";
import { startWorker, type WorkerProcess } from "./worker-process.js";

// Child `jimeng worker` processes (the built bin) killed with SIGKILL or stopped with SIGTERM; the emulator
// in this process counts every submit. `npm run build` first.
reportRedisMissing("test/queue/worker-faults.test.ts");

const workers: WorkerProcess[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop(true);
  await closeAll();
});

async function worker(deploy: Deployment, args: readonly string[] = []): Promise<WorkerProcess> {
  const started = await startWorker({
    redisUrl: deploy.redis.url,
    prefix: deploy.redis.prefix,
    data: deploy.data,
    emulator: deploy.emulator,
    configDir: deploy.configDir,
    args,
  });
  workers.push(started);
  return started;
}

async function create(server: RunningServer, prompt: string): Promise<string> {
  const created = await call(server, "POST", "/api/v1/ai/image/task", server.adminKey as string, { prompt });
  expect(created.status).toBe(201);
  return created.body.data.task_id;
}

describe.runIf(REDIS_SERVER)("jimeng worker processes that die or stop", () => {
  it("a worker killed while polling leaves the job to another, which polls it: one submit", async () => {
    const deploy = await deployment({ durations: { image: 1200 } });
    const node = await deploy.node();
    const key = node.adminKey as string;
    const doomed = await worker(deploy);
    const id = await create(node, "killed mid-poll");
    await until(node, id, key, (task) => task.upstream_task_id !== null);
    await doomed.stop(true);

    await worker(deploy);
    const done = await until(node, id, key, (task) => task.status === "completed");
    expect(done.status).toBe("completed");
    expect(deploy.emulator.counters.tasksByPrompt).toEqual({ "killed mid-poll": 1 });
    expect(await outputMatches(deploy, node, id, "killed mid-poll")).toBe(true);
  });

  it("a job caught mid-submit follows the uncertain-submit rule: failed, not paid twice, with --no-resubmit-uncertain", async () => {
    const deploy = await deployment({ submitDelayMs: 3000 });
    const node = await deploy.node();
    const key = node.adminKey as string;
    const doomed = await worker(deploy);
    const id = await create(node, "killed mid-submit");
    await until(node, id, key, () => node.store.getTask(id)?.status === "submitting");
    // The emulator holds the answer: the task exists upstream, its id never reached the worker.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await doomed.stop(true);

    await worker(deploy, ["--no-resubmit-uncertain"]);
    await until(node, id, key, (task) => task.status === "failed");
    expect(node.store.getTask(id)?.error?.code).toBe("UNCERTAIN_SUBMIT");
    expect(deploy.emulator.counters.tasksByPrompt).toEqual({ "killed mid-submit": 1 });
  });

  it("SIGTERM past --drain-timeout hands the running job back; the next worker polls it", async () => {
    const deploy = await deployment({ durations: { image: 1200 } });
    const node = await deploy.node();
    const key = node.adminKey as string;
    const stopping = await worker(deploy, ["--drain-timeout", "0"]);
    const id = await create(node, "handed back");
    await until(node, id, key, (task) => task.upstream_task_id !== null);
    const exit = await stopping.stop();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain("went back to the queue");

    await worker(deploy);
    await until(node, id, key, (task) => task.status === "completed");
    expect(deploy.emulator.counters.tasksByPrompt).toEqual({ "handed back": 1 });
  });
});
