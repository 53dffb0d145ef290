import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { runCli, whenStderr } from "../e2e/batch-cli.js";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { closeBatchSetups, filesMatch, jobs, batchSetup as setup } from "./batch-setup.js";

// `jimeng batch --redis` (the built bin) validating, queueing and following jobs that `jimeng worker`
// processes run; the emulator in this process counts every submit. `npm run build` first.
reportRedisMissing("test/queue/redis-batch.test.ts");

afterEach(closeBatchSetups);

describe.runIf(REDIS_SERVER)("jimeng batch --redis", () => {
  it("workers on the queue run the jobs; the batch process writes the journal, the report and follows progress", async () => {
    const set = await setup([
      ...jobs(["a", "b", "c", "d", "e"]),
      { id: "f", kind: "compose", provider: "session", prompt: "job f", images: ["ref.png"] },
    ]);
    await writeFile(path.join(path.dirname(set.file), "ref.png"), proceduralPng("reference", 64, 64));
    await set.worker();
    await set.worker();

    const run = set.batch();
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).not.toContain("no worker");
    const report = JSON.parse(exit.stdout);
    expect(report.succeeded).toBe(6);
    expect(report.jobs.map((job: { id: string }) => job.id)).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(JSON.parse(await readFile(path.join(set.out, "report.json"), "utf8")).succeeded).toBe(6);
    await filesMatch(set, report);
    // Each job was submitted once (the compose job's local reference image reached the worker inside its job).
    const byPrompt = set.emulator.counters.tasksByPrompt;
    expect(Object.values(byPrompt)).toEqual([1, 1, 1, 1, 1, 1]);
    const journal = await readFile(path.join(set.out, ".jimeng", "journal.jsonl"), "utf8");
    expect(journal.match(/"type":"succeeded"/g)).toHaveLength(6);
    expect(journal.match(/"type":"submitted"/g)).toHaveLength(6);

    // Enqueueing the same run again adds nothing: every job is found finished on the queue.
    const again = await set.batch(["--resume"]).exited;
    expect(again.code, again.stderr).toBe(0);
    expect(Object.values(set.emulator.counters.tasksByPrompt)).toEqual([1, 1, 1, 1, 1, 1]);

    // A run that used the queue is not resumed without it (its running jobs could be paid twice).
    const local = await runCli(["batch", set.file, "-o", set.out, "--resume", "--emulator"], {
      env: set.env,
      cwd: path.dirname(set.file),
    }).exited;
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("--redis");
  });

  it("follows more jobs at once than Node's listener limit without a warning", async () => {
    const set = await setup(jobs(Array.from({ length: 12 }, (_, i) => `j${i}`)));
    await set.worker(["-c", "12"]);
    const exit = await set.batch().exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(JSON.parse(exit.stdout).succeeded).toBe(12);
    expect(exit.stderr).not.toContain("Warning");
  });

  it("a batch process killed mid-run re-attaches with --resume: no job is submitted twice", async () => {
    const set = await setup(jobs(["a", "b", "c", "d"]), 600);
    await set.worker(["-c", "4"]);
    const first = set.batch();
    // Killed once every job is submitted upstream and none has finished.
    await whenStderr(first, () => Object.keys(set.emulator.counters.tasksByPrompt).length === 4);
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(Object.values(set.emulator.counters.tasksByPrompt)).toEqual([1, 1, 1, 1]);

    const resumed = await set.batch(["--resume"]).exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout);
    expect(report.succeeded).toBe(4);
    await filesMatch(set, report);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1, "job b": 1, "job c": 1, "job d": 1 });
  });

  it("Ctrl-C takes the jobs no worker started out of the queue; the printed command finishes the run", async () => {
    const set = await setup(jobs(["a", "b", "c"]));
    const first = set.batch();
    // No worker yet: the jobs wait in the queue.
    for (let i = 0; i < 500 && (await set.queued()).waiting !== 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await set.queued()).waiting).toBe(3);
    first.child.kill("SIGINT");
    const stopped = await first.exited;
    expect(stopped.code).toBe(130);
    expect((await set.queued()).waiting).toBe(0);
    const printed = /continue with:\s+(.+)/.exec(stopped.stderr)?.[1] ?? "";
    expect(printed).toContain(`--redis ${set.redis.url}`);
    // It said at once that no worker was there, and how to start one (the arguments startWorker passes).
    expect(stopped.stderr).toContain(
      `no worker is taking jobs from this queue yet; they wait until one starts:\n  jimeng worker --redis ${set.redis.url} --redis-prefix ${set.redis.prefix} --data ${set.data}`,
    );

    await set.worker();
    const words = printed.split(" ").slice(1);
    const resumed = await runCli(["--json", ...words], { env: set.env, cwd: path.dirname(set.file) }).exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).succeeded).toBe(3);
    expect(set.emulator.counters.tasksByPrompt).toEqual({ "job a": 1, "job b": 1, "job c": 1 });
  });

  it("refuses bad input before anything reaches the queue", async () => {
    const set = await setup([
      { id: "a", prompt: "fine" },
      { id: "b", prompt: "" },
    ]);
    const bad = await set.batch().exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/jobs\.jsonl:2/);
    expect(bad.stderr).toContain("prompt");

    const outside = await runCli(
      ["batch", set.file, "--redis", set.redis.url, "--data", set.data, "-o", path.dirname(set.data)],
      { env: set.env, cwd: path.dirname(set.file) },
    ).exited;
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("-o");

    const qps = await set.batch(["--qps", "5"]).exited;
    expect(qps.code).toBe(2);
    expect(qps.stderr).toContain("--upstream-qps");
    const retries = await set.batch(["--retries", "5"]).exited;
    expect(retries.code).toBe(2);
    expect(retries.stderr).toContain("worker");
    expect(await set.queued()).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    expect(set.emulator.counters.tasksByPrompt).toEqual({});
  });
});
