import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_NAME, redisTarget } from "../../src/queue/bullmq.js";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { type BatchSetup, batchSetup, closeBatchSetups, filesMatch, jobs } from "./batch-setup.js";

// `jimeng batch --redis` (the built bin) while its workers die, Redis forgets its jobs, a worker lacks a
// provider's credentials or downloads keep failing; the emulator in this process counts every submit.
// `npm run build` first.
reportRedisMissing("test/queue/redis-batch-faults.test.ts");

afterEach(closeBatchSetups);

/** Resolves once `check` holds (polled every 10 ms); fails the test after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many records of `type` the batch's journal holds. */
async function journaled(set: BatchSetup, type: string): Promise<number> {
  const text = await readFile(path.join(set.out, ".jimeng", "journal.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter((line) => line.includes(`"type":"${type}"`)).length;
}

describe.runIf(REDIS_SERVER)("jimeng batch --redis when things break", () => {
  it("a worker killed while polling: another worker polls the jobs, each submitted once", async () => {
    const set = await batchSetup(jobs(["a", "b"]), 800);
    const doomed = await set.worker(["-c", "4"]);
    const run = set.batch();
    // Both upstream ids are on their jobs (the journal mirrors them): the worker is polling.
    await eventually(async () => (await journaled(set, "submitted")) === 2);
    await doomed.stop(true);
    await set.worker();

    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout);
    expect(report.succeeded).toBe(2);
    await filesMatch(set, report);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1, "job b": 1 });
  });

  it("Redis restarted without persistence after the upstream id was recorded: the job is added again as a poll", async () => {
    const set = await batchSetup(jobs(["a"]), 800);
    await set.worker();
    const run = set.batch();
    await eventually(async () => (await journaled(set, "submitted")) === 1);
    await set.redis.stop(true);
    await set.redis.restart();

    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout);
    expect(report.succeeded).toBe(1);
    await filesMatch(set, report);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1 });
  });

  it("Redis restarted while the job was mid-submit, with --no-resubmit-uncertain: failed UNCERTAIN_SUBMIT, not sent again", async () => {
    const set = await batchSetup(jobs(["a"]), 30, { submitDelayMs: 1500 });
    await set.worker();
    const run = set.batch(["--no-resubmit-uncertain"]);
    // The task exists upstream; the emulator holds its answer, so no upstream id reached the job.
    await eventually(() => set.emulator.counters.tasksByPrompt["job a"] === 1);
    await set.redis.stop(true);
    await set.redis.restart();

    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(1);
    const report = JSON.parse(exit.stdout);
    expect(report.jobs[0].error.code).toBe("UNCERTAIN_SUBMIT");
    // Past the held answer: still one submit.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1 });
  });

  it("a job lost while a worker held it, before its upstream id was recorded, is uncertain: not submitted again under --no-resubmit-uncertain", async () => {
    const set = await batchSetup(jobs(["a"]));
    // Takes the job and writes nothing, like a worker that has sent the submit before its `submitting` record.
    const holder = new Worker(QUEUE_NAME, () => new Promise<never>(() => {}), {
      connection: redisTarget(set.redis.url).connection,
      prefix: set.redis.prefix,
    });
    const run = set.batch(["--no-resubmit-uncertain"]);
    await eventually(async () => (await set.queued()).active === 1);
    // The batch re-reads the job on its "active" event; nothing outside it shows when, so give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.close(true);
    await set.redis.stop(true);
    await set.redis.restart();
    await set.worker();

    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(1);
    expect(JSON.parse(exit.stdout).jobs[0].error.code).toBe("UNCERTAIN_SUBMIT");
    expect(set.emulator.counters.tasksByPrompt).toEqual({});
  });

  it("a job completed without a result (another program on the queue) ends failed, not followed forever", async () => {
    const set = await batchSetup(jobs(["a"]));
    const foreign = new Worker(QUEUE_NAME, async () => undefined, {
      connection: redisTarget(set.redis.url).connection,
      prefix: set.redis.prefix,
    });
    const exit = await set.batch().exited;
    await foreign.close();
    expect(exit.code, exit.stderr).toBe(1);
    expect(JSON.parse(exit.stdout).jobs[0].error.code).toBe("WORKER_FAILED");
  });

  it("a job whose data something else overwrote fails alone (BAD_JOB_DATA); the rest of the batch completes", async () => {
    const set = await batchSetup(jobs(["a", "b"]));
    const run = set.batch();
    await eventually(async () => (await set.queued()).waiting === 2);
    const [spoiled] = (await set.queue.getWaiting()).filter((job) => job.data.taskId === "a");
    await spoiled?.updateData({ taskId: "a" });
    await set.worker();
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(1);
    const report = JSON.parse(exit.stdout);
    expect(report.jobs.map((job: { status: string }) => job.status)).toEqual(["failed", "succeeded"]);
    expect(report.jobs[0].error.code).toBe("BAD_JOB_DATA");
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job b": 1 });
  });

  it("a job naming a provider the worker has no credentials for fails with a clear message; the rest completes", async () => {
    const set = await batchSetup([...jobs(["a"]), { id: "b", provider: "ark", prompt: "job b" }]);
    await set.worker([], { ARK_API_KEY: undefined });

    const exit = await set.batch().exited;
    expect(exit.code, exit.stderr).toBe(1);
    const report = JSON.parse(exit.stdout);
    const [a, b] = report.jobs;
    expect(a.status).toBe("succeeded");
    expect(b.status).toBe("failed");
    expect(b.error.code).toBe("PROVIDER_UNAVAILABLE");
    expect(b.error.message).toMatch(/ark/i);
    expect(exit.stdout + exit.stderr).not.toContain(set.emulator.credentials.secretAccessKey);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1 });
  });

  it("a worker's credential echoed in an upstream error never reaches Redis, the journal or the report", async () => {
    const set = await batchSetup([{ id: "a", provider: "ark", prompt: "job a" }]);
    const key = "worker-only-ark-key-4f1c9e27";
    // An Ark endpoint that answers every request with an error quoting the request's Authorization header.
    const hostile = createServer((request, response) => {
      response.writeHead(400, { "content-type": "application/json" });
      const message = `invalid key: ${request.headers.authorization}`;
      response.end(JSON.stringify({ error: { code: "InvalidParameter", message } }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    const port = (hostile.address() as AddressInfo).port;
    try {
      await set.worker([], { ARK_API_KEY: key, JIMENG_ARK_ENDPOINT: `http://127.0.0.1:${port}/api/v3` });
      const exit = await set.batch().exited;
      expect(exit.code, exit.stderr).toBe(1);
      expect(JSON.parse(exit.stdout).jobs[0].error.message).toContain("invalid key");
      const journal = await readFile(path.join(set.out, ".jimeng", "journal.jsonl"), "utf8");
      const report = await readFile(path.join(set.out, "report.json"), "utf8");
      const stored = JSON.stringify(
        (await set.queue.getFailed()).map((job) => ({ data: job.data, reason: job.failedReason })),
      );
      expect(stored).toContain("invalid key");
      for (const text of [exit.stdout, exit.stderr, journal, report, stored]) expect(text).not.toContain(key);
    } finally {
      await new Promise((resolve) => hostile.close(resolve));
    }
  });

  it("a download that fails in a way safe to retry goes back to the queue and is polled again: one submit", async () => {
    const faults = { download: { serverError: 1 } };
    const set = await batchSetup(jobs(["a"]), 30, { faults });
    const worker = await set.worker();
    const run = set.batch();
    // The first round of downloads failed (each 5xx after the download's own retries): the job waits again.
    await eventually(() => worker.run.stderr().includes("polling it again"));
    faults.download = { serverError: 0 };

    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout);
    expect(report.succeeded).toBe(1);
    await filesMatch(set, report);
    expect(worker.run.stderr()).toContain("retry 1 of 2");
    // The batch's progress shows the worker's retry, as it does for its own.
    expect(exit.stderr).toMatch(/a: download failed \(.+\); retry 1 in/);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1 });
  });
});
