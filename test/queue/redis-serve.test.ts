import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_NAME, redisTarget } from "../../src/queue/bullmq.js";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { call, closeAll, deployment, outputMatches, until } from "./deployment.js";

reportRedisMissing("test/queue/redis-serve.test.ts");

afterEach(closeAll);

describe.runIf(REDIS_SERVER)("serve --redis with jimeng worker processes", () => {
  it("runs a task created on one API node on a worker; another node on the same data sees it end", async () => {
    const deploy = await deployment();
    const first = await deploy.node();
    const second = await deploy.node();
    const key = first.adminKey as string;
    expect(second.adminKey).toBeUndefined();
    await deploy.worker();

    const created = await call(first, "POST", "/api/v1/ai/image/task", key, { prompt: "two nodes" });
    expect(created.status).toBe(201);
    const id: string = created.body.data.task_id;
    const done = await until(second, id, key, (task) => task.status === "completed");

    const emulated = deploy.emulator.tasks().find((task) => task.prompt === "two nodes");
    expect(done.upstream_task_id).toBe(emulated?.id);
    expect(await outputMatches(deploy, first, id, "two nodes")).toBe(true);
    expect(deploy.emulator.counters.tasksByPrompt).toEqual({ "two nodes": 1 });
  });

  it("adds one job for a task queued twice, by two API nodes, so it is submitted once", async () => {
    const deploy = await deployment();
    const first = await deploy.node();
    const second = await deploy.node();
    const key = first.adminKey as string;
    const created = await call(first, "POST", "/api/v1/ai/image/task", key, { prompt: "once" });
    const id: string = created.body.data.task_id;
    first.pool.enqueue(id);
    second.pool.enqueue(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deploy.worker();
    await until(first, id, key, (task) => task.status === "completed");
    expect(deploy.emulator.counters.tasksByPrompt).toEqual({ once: 1 });
    const queue = new Queue(QUEUE_NAME, {
      connection: redisTarget(deploy.redis.url).connection,
      prefix: deploy.redis.prefix,
    });
    const counts = await queue.getJobCounts();
    await queue.close();
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(1);
  });

  it("cancels a queued task from either node before any worker takes it", async () => {
    const deploy = await deployment();
    const first = await deploy.node();
    const second = await deploy.node();
    const key = first.adminKey as string;
    const created = await call(first, "POST", "/api/v1/ai/image/task", key, { prompt: "never" });
    const id: string = created.body.data.task_id;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelled = await call(second, "DELETE", `/api/v1/tasks/${encodeURIComponent(id)}`, key);
    expect(cancelled.status).toBe(200);
    await deploy.worker();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deploy.emulator.counters.submits).toBe(0);
    expect(first.store.getTask(id)?.status).toBe("cancelled");
  });
});

describe.runIf(REDIS_SERVER)("serve --redis when Redis restarts", () => {
  it("finishes every task, each submitted once, when Redis (appendonly) is killed and restarted mid-run", async () => {
    const deploy = await deployment({ durations: { image: 400 } }, { appendonly: true });
    const node = await deploy.node();
    const key = node.adminKey as string;
    await deploy.worker({ concurrency: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(
        (await call(node, "POST", "/api/v1/ai/image/task", key, { prompt: `restart ${i}` })).body.data
          .task_id,
      );
    }
    await until(node, ids[0] as string, key, (task) => task.upstream_task_id !== null);
    await deploy.redis.stop(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deploy.redis.restart();
    for (const id of ids) await until(node, id, key, (task) => task.status === "completed");
    expect(Object.values(deploy.emulator.counters.tasksByPrompt)).toEqual(Array(6).fill(1));
  });
});
