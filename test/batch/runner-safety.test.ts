/** The runner's money-safety rules on resume: recorded provider and endpoint, disk checks, failed polls. */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { journalPath } from "../../src/batch/journal.js";
import type { BatchEvent } from "../../src/batch/runner.js";
import { type Bench, checkFiles, job, setUp } from "./runner-helpers.js";

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.cleanup();
  bench = undefined;
});

/** Runs `jobs` on `provider` until every job has a task id recorded, then stops the run. */
async function submitThenStop(b: Bench, jobs: ReturnType<typeof job>[], provider: "visual" | "session") {
  const controller = new AbortController();
  let submitted = 0;
  const result = await b.run(jobs, {
    provider: b.providers[provider],
    concurrency: jobs.length,
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "submitted" && ++submitted === jobs.length) controller.abort();
    },
  });
  expect(result.interrupted).toBe(true);
  return result;
}

describe("runBatch --resume: the provider that owns each task", () => {
  it("polls every recorded task through its recorded provider, whatever this run's default is", async () => {
    bench = await setUp();
    const jobs = [job({ id: "a", prompt: "session-owned a" }), job({ id: "b", prompt: "session-owned b" })];
    await submitThenStop(bench, jobs, "session");

    const resumed = await bench.run(jobs, { resume: true, provider: bench.providers.visual });
    expect(resumed.report).toMatchObject({ total: 2, succeeded: 2 });
    expect(bench.emulator.counters.submits).toBe(2);
    expect(bench.emulator.tasks().map((task) => task.provider)).toEqual(["session", "session"]);
  });

  it("refuses, before sending anything, when the recorded provider has no credentials in this run", async () => {
    bench = await setUp();
    const jobs = [job({ id: "a", prompt: "orphan a" })];
    await submitThenStop(bench, jobs, "session");
    const before = bench.emulator.counters.requests;

    const refused = bench.run(jobs, {
      resume: true,
      provider: bench.providers.visual,
      providers: { visual: bench.providers.visual },
    });
    await expect(refused).rejects.toMatchObject({
      code: "CONFIG_ERROR",
      message: expect.stringContaining("1 recorded task(s) were submitted through the session provider"),
    });
    expect(bench.emulator.counters.requests).toBe(before);
  });

  it("refuses when a recorded task was submitted to another endpoint (unless endpoints are not checked)", async () => {
    bench = await setUp();
    const jobs = [job({ id: "a", prompt: "moved endpoint" })];
    await submitThenStop(bench, jobs, "visual");
    const file = journalPath(bench.out);
    const journal = await readFile(file, "utf8");
    expect(journal).toContain(`"endpoint":"${bench.emulator.url}"`);
    await writeFile(file, journal.replaceAll(bench.emulator.url, "https://elsewhere.example"));

    await expect(bench.run(jobs, { resume: true })).rejects.toThrow(
      "were submitted to another endpoint: a (task",
    );
    const resumed = await bench.run(jobs, { resume: true, checkEndpoints: false });
    expect(resumed.report.succeeded).toBe(1);
    expect(bench.emulator.counters.submits).toBe(1);
  });
});

describe("runBatch: an unparseable poll answer is not a failed job", () => {
  it("polls again through a proxy's HTML answers (HTTP 200) and finishes every job", async () => {
    bench = await setUp({ faults: { poll: { garbage: 0.3 } }, seed: 7 });
    const jobs = Array.from({ length: 6 }, (_, index) =>
      job({ id: `g${index}`, prompt: `garbage ${index}` }),
    );
    const result = await bench.run(jobs, { concurrency: 3 });
    expect(bench.emulator.counters.faults.garbage).toBeGreaterThan(0);
    expect(result.report).toMatchObject({ total: 6, succeeded: 6, failed: 0 });
    expect(bench.emulator.counters.submits).toBe(6);
  });

  it("keeps polling through a proxy that only answers HTML; a resume polls the same tasks, paying nothing", async () => {
    const faults: { poll?: { garbage: number } } = { poll: { garbage: 1 } };
    bench = await setUp({ faults });
    const jobs = [job({ id: "a", prompt: "paid once a" }), job({ id: "b", prompt: "paid once b" })];
    const first = await bench.run(jobs, { retries: 1, timeout: 60_000 });
    expect(first.report).toMatchObject({ total: 2, succeeded: 0, failed: 2 });
    expect(first.report.jobs.map((entry) => entry.error?.code)).toEqual(["TIMEOUT", "TIMEOUT"]);

    delete faults.poll; // the proxy is fixed
    const second = await bench.run(jobs, { resume: true });
    expect(second.plan.jobs.map((planned) => planned.action)).toEqual(["poll", "poll"]);
    expect(second.report).toMatchObject({ total: 2, succeeded: 2 });
    expect(bench.emulator.counters.submits).toBe(2);
  });

  it("--retry-failed polls the recorded task of a job whose download failed, instead of paying again", async () => {
    const faults: { download?: { serverError: number } } = { download: { serverError: 1 } };
    bench = await setUp({ faults });
    const jobs = [job({ id: "a", prompt: "download a" }), job({ id: "b", prompt: "download b" })];
    const first = await bench.run(jobs, { retries: 1 });
    expect(first.report).toMatchObject({ total: 2, succeeded: 0, failed: 2 });

    delete faults.download;
    const second = await bench.run(jobs, { resume: true, retryFailed: true });
    expect(second.plan.jobs.map((planned) => [planned.action, planned.reason])).toEqual([
      ["poll", "retry-failed"],
      ["poll", "retry-failed"],
    ]);
    expect(second.report).toMatchObject({ total: 2, succeeded: 2 });
    expect(bench.emulator.counters.submits).toBe(2);
  });
});

describe("runBatch --resume checks the disk, not only the journal", () => {
  it("downloads a succeeded job's missing or changed files again from its task, without submitting", async () => {
    const faults: { download?: { serverError: number } } = {};
    bench = await setUp({ faults });
    const jobs = [
      job({ id: "a", prompt: "deleted later" }),
      job({ id: "b", prompt: "edited later" }),
      job({ id: "c", prompt: "left alone" }),
    ];
    const first = await bench.run(jobs);
    expect(first.report.succeeded).toBe(3);
    const fileOf = (id: string) => path.join(bench?.out ?? "", `${id}-1.png`);
    const original = await readFile(fileOf("a"));
    await rm(fileOf("a"));
    await writeFile(fileOf("b"), "not the picture");

    const second = await bench.run(jobs, { resume: true });
    expect(second.report).toMatchObject({ total: 3, succeeded: 3, failed: 0 });
    expect(await readFile(fileOf("a"))).toEqual(original);
    expect(await checkFiles(bench, second)).toBe(6); // two images per task
    // The edited file is the user's: kept, and the task's output saved beside it.
    expect(await readFile(fileOf("b"), "utf8")).toBe("not the picture");
    expect(second.report.jobs[1]?.files.map((file) => file.file)).toEqual(["b-1-1.png", "b-2.png"]);
    expect(bench.emulator.counters.submits).toBe(3);

    // The task's outputs can no longer be downloaded: the job is reported as missing, not as done.
    await rm(fileOf("c"));
    faults.download = { serverError: 1 };
    const third = await bench.run(jobs, { resume: true, retries: 0 });
    expect(third.report).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    const c = third.report.jobs.find((entry) => entry.id === "c");
    expect(c).toMatchObject({ status: "failed", files: [], error: { code: "OUTPUT_MISSING" } });
    expect(c?.error?.message).toContain("c-1.png is missing");
    expect(bench.emulator.counters.submits).toBe(3);
  });
});

describe("runBatch: throttled polls do not starve the batch", () => {
  it("keeps every job slot under steady random 50429s on polls; only the task limit (50430) lowers it", async () => {
    bench = await setUp({ faults: { poll: { throttleQps: 0.4 } }, seed: 11 });
    const jobs = Array.from({ length: 16 }, (_, index) =>
      job({ id: `t${index}`, prompt: `throttled ${index}` }),
    );
    let running = 0;
    let most = 0;
    const lowered: number[] = [];
    const result = await bench.run(jobs, {
      concurrency: 8,
      onEvent: (event) => {
        if (event.type === "start") most = Math.max(most, ++running);
        if (event.type === "end") running--;
        if (event.type === "concurrency" && event.change.reason === "throttled")
          lowered.push(event.change.to);
      },
    });
    expect(bench.emulator.counters.faults["throttle-qps"]).toBeGreaterThanOrEqual(4);
    expect(result.report).toMatchObject({ total: 16, succeeded: 16 });
    expect(lowered).toEqual([]);
    expect(most).toBe(8);
  });
});

describe("runBatch --resume: a job that changed while its paid task was running", () => {
  it("says so, polls the paid task and saves it under the old job's record, and runs the changed job", async () => {
    bench = await setUp();
    const before = job({ id: "hero", prompt: "a lighthouse, watercolor" });
    await submitThenStop(bench, [before], "visual");

    const after = job({ id: "hero", prompt: "a lighthouse, oil painting" });
    const events: BatchEvent[] = [];
    const result = await bench.run([after], { resume: true, onEvent: (event) => events.push(event) });

    const [oldTask] = bench.emulator.tasks();
    const superseded = events.filter((event) => event.type === "superseded");
    expect(superseded).toHaveLength(1);
    expect(superseded[0]).toMatchObject({ replacedBy: "hero", ref: { taskId: oldTask?.id } });
    expect(result.report).toMatchObject({ total: 1, succeeded: 1 });
    expect(result.report.superseded).toEqual([
      expect.objectContaining({
        id: `hero~${before.hash.slice(0, 8)}`,
        replacedBy: "hero",
        status: "succeeded",
        taskId: oldTask?.id,
      }),
    ]);
    expect(result.report.superseded?.[0]?.files.length).toBeGreaterThan(0);
    expect(
      await checkFiles(bench, {
        ...result,
        report: { ...result.report, jobs: result.report.superseded ?? [] },
      }),
    ).toBe(2);
    expect(bench.emulator.counters.submits).toBe(2);

    // Nothing is left to keep on the next resume.
    const again = await bench.run([after], { resume: true });
    expect(again.report.superseded).toBeUndefined();
    expect(bench.emulator.counters.submits).toBe(2);
  });
});
