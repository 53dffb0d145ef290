import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal, journalPath, readJournal } from "../../src/batch/journal.js";
import type { BatchEvent } from "../../src/batch/runner.js";
import { type Bench, checkFiles, job, setUp, sha256 } from "./runner-helpers.js";

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.cleanup();
  bench = undefined;
});

describe("runBatch", () => {
  it("runs generate, compose and video jobs on both providers and saves every output with its sha256", async () => {
    bench = await setUp();
    const jobs = [
      job({ id: "v-gen", prompt: "visual generate", count: 2 }),
      job({ id: "v-video", kind: "video", prompt: "visual video" }),
      job({ id: "s-gen", prompt: "session generate", provider: "session", count: 1 }),
      job({ id: "s-video", kind: "video", prompt: "session video", provider: "session" }),
      job({
        id: "v-compose",
        kind: "compose",
        prompt: "visual compose",
        images: ["http://127.0.0.1:1/reference.png"],
      }),
    ];
    const result = await bench.run(jobs, { concurrency: 3 });

    expect(result.report).toMatchObject({ total: 5, succeeded: 5, failed: 0, interrupted: false });
    expect(result.report.jobs.map((entry) => entry.id)).toEqual(jobs.map((j) => j.id));
    expect(result.report.jobs.every((entry) => entry.taskId !== null && entry.files.length > 0)).toBe(true);
    expect(await checkFiles(bench, result)).toBeGreaterThanOrEqual(6);
    const providers = new Set(bench.emulator.tasks().map((task) => task.provider));
    expect(providers).toEqual(new Set(["visual", "session"]));
    const written = JSON.parse(await readFile(path.join(bench.out, "report.json"), "utf8"));
    expect(written).toEqual(result.report);
  });

  it("names output files {id}-{index} by default, and after a job's own template when it has one", async () => {
    bench = await setUp();
    const result = await bench.run([
      job({ id: "hero", prompt: "a hero image", count: 2 }),
      job({ id: "logo", prompt: "a logo", count: 1, name: "brand-{index}" }),
    ]);
    expect(result.report.jobs.map((entry) => entry.files.map((file) => file.file))).toEqual([
      ["hero-1.png", "hero-2.png"],
      ["brand-1.png"],
    ]);
  });

  it("records a task failure with the task's status and the provider's error, and goes on with the rest", async () => {
    bench = await setUp();
    const result = await bench.run([
      job({ id: "bad", prompt: "this one fails [fail:50511]" }),
      job({ id: "good", prompt: "this one works" }),
    ]);
    expect(result.report.succeeded).toBe(1);
    expect(result.report.failed).toBe(1);
    const bad = result.report.jobs[0];
    expect(bad?.status).toBe("failed");
    expect(bad?.taskId).not.toBeNull();
    expect(bad?.error?.code).toBe(50511);
  });

  it("fails a job that names a provider the batch has none for, without sending it", async () => {
    bench = await setUp();
    const result = await bench.run([job({ id: "s", prompt: "session only", provider: "session" })], {
      providers: {},
    });
    expect(result.report.jobs[0]).toMatchObject({ status: "failed", error: { code: "VALIDATION_ERROR" } });
    expect(bench.emulator.counters.submits).toBe(0);
  });

  it("starts a fresh journal without --resume, keeping the earlier one beside it", async () => {
    bench = await setUp();
    const jobs = [job({ id: "a", prompt: "fresh a" })];
    await bench.run(jobs);
    const events: BatchEvent[] = [];
    const second = await bench.run(jobs, { onEvent: (event) => events.push(event) });
    expect(second.report.succeeded).toBe(1);
    expect(bench.emulator.counters.tasksByPrompt["fresh a"]).toBe(2);
    const plan = events.find((event) => event.type === "plan");
    expect(plan?.type === "plan" && plan.archivedJournal).toMatch(/journal-.*\.jsonl$/);
    const { records } = await readJournal(journalPath(bench.out));
    expect(records.filter((record) => record.type === "submitting")).toHaveLength(1);
  });
});

describe("runBatch --resume", () => {
  it("polls a recorded task instead of submitting it, skips done and failed jobs, resubmits an uncertain one", async () => {
    bench = await setUp();
    const polled = job({ id: "polled", prompt: "was submitted" });
    const done = job({ id: "done", prompt: "was done" });
    const uncertain = job({ id: "uncertain", prompt: "was being submitted" });
    const broken = job({ id: "broken", prompt: "had failed" });
    const jobs = [polled, done, uncertain, broken];
    // An earlier run: one task accepted (really submitted to the emulator), one finished, one cut off
    // mid-submit, one failed.
    const ref = await bench.providers.visual.submit({
      kind: "generate",
      prompt: polled.prompt,
      model: bench.providers.visual.resolveModel(undefined, "generate"),
      images: [],
    });
    const journal = await Journal.open(bench.out, { sync: "none" });
    await journal.submitting(polled);
    await journal.submitted(polled, ref);
    await journal.submitting(done);
    // Its file is on disk as recorded (a resume checks that before it skips the job).
    await writeFile(path.join(bench.out, "done-1.png"), "d");
    await journal.succeeded(done, "1", [{ file: "done-1.png", sha256: sha256(Buffer.from("d")), bytes: 1 }]);
    await journal.submitting(uncertain);
    await journal.submitting(broken);
    await journal.failed(broken, { code: 50511, message: "generation failed" });
    await journal.close();

    const events: BatchEvent[] = [];
    const result = await bench.run(jobs, { resume: true, onEvent: (event) => events.push(event) });

    const counts = bench.emulator.counters.tasksByPrompt;
    expect(counts).toEqual({ "was submitted": 1, "was being submitted": 1 });
    expect(result.plan.uncertain).toEqual(["uncertain"]);
    expect(result.report.jobs.map((entry) => entry.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "failed",
    ]);
    expect(result.report.jobs[0]?.taskId).toBe(ref.taskId);
    const starts = events
      .filter((event) => event.type === "start")
      .map((event) => [event.job.id, event.action]);
    expect(starts).toEqual([
      ["polled", "poll"],
      ["uncertain", "submit"],
    ]);
  });

  it("submits failed jobs again only with retryFailed, and skips uncertain ones with resubmitUncertain false", async () => {
    bench = await setUp();
    const broken = job({ id: "broken", prompt: "failed once" });
    const unsure = job({ id: "unsure", prompt: "unsure" });
    const jobs = [broken, unsure];
    const journal = await Journal.open(bench.out, { sync: "none" });
    await journal.submitting(broken);
    await journal.failed(broken, { code: 50511, message: "generation failed" });
    await journal.submitting(unsure);
    await journal.close();

    const result = await bench.run(jobs, { resume: true, retryFailed: true, resubmitUncertain: false });

    expect(bench.emulator.counters.tasksByPrompt).toEqual({ "failed once": 1 });
    expect(result.report.jobs.map((entry) => entry.status)).toEqual(["succeeded", "queued"]);
  });

  it("treats --resume without a journal as a fresh run", async () => {
    bench = await setUp();
    const result = await bench.run([job({ id: "a", prompt: "first ever" })], { resume: true });
    expect(result.report.succeeded).toBe(1);
  });

  it("submits a changed job again, and finds a job whose line-N id shifted by its content", async () => {
    bench = await setUp();
    const first = [
      job({ id: "line-1", prompt: "cat", count: 1 }),
      job({ id: "line-2", prompt: "dog", count: 1 }),
    ];
    await bench.run(first);
    // A line was inserted at the top, and the cat's prompt changed.
    const second = [
      job({ id: "line-1", prompt: "bird", count: 1 }),
      job({ id: "line-2", prompt: "cat, now in red", count: 1 }),
      job({ id: "line-3", prompt: "dog", count: 1 }),
    ];
    const result = await bench.run(second, { resume: true });

    expect(bench.emulator.counters.tasksByPrompt).toEqual({ cat: 1, dog: 1, bird: 1, "cat, now in red": 1 });
    expect(result.report.jobs.map((entry) => entry.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(result.report.jobs[2]?.files).toEqual([expect.objectContaining({ file: "line-2-1.png" })]);
    // Written again under its new id: a further resume needs no content matching for it.
    const { records } = await readJournal(journalPath(bench.out));
    expect(records.some((record) => record.jobId === "line-3" && record.type === "succeeded")).toBe(true);
  });
});

describe("runBatch interrupted", () => {
  it("stops submitting on abort, records the tasks in flight, and a resume finishes them without resubmitting", async () => {
    bench = await setUp();
    const jobs = Array.from({ length: 8 }, (_, index) =>
      job({ id: `j${index}`, prompt: `interrupt ${index}`, count: 1 }),
    );
    const controller = new AbortController();
    const first = await bench.run(jobs, {
      concurrency: 3,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "submitted") controller.abort();
      },
    });

    expect(first.interrupted).toBe(true);
    expect(first.report.interrupted).toBe(true);
    const running = first.report.jobs.filter((entry) => entry.status === "running");
    // Every submit that was in flight landed in the journal with its task id; nothing else was sent.
    expect(running.length).toBe(bench.emulator.counters.tasks);
    expect(running.length).toBeGreaterThanOrEqual(1);
    expect(running.length).toBeLessThanOrEqual(3);
    expect(first.report.jobs.filter((entry) => entry.status === "queued")).toHaveLength(8 - running.length);

    const second = await bench.run(jobs, { resume: true, concurrency: 3 });
    expect(second.report).toMatchObject({ total: 8, succeeded: 8, interrupted: false });
    expect(Object.values(bench.emulator.counters.tasksByPrompt).every((count) => count === 1)).toBe(true);
    expect(await checkFiles(bench, second)).toBe(8);
  });

  it("does nothing but report when the signal has already fired", async () => {
    bench = await setUp();
    const result = await bench.run([job({ id: "a", prompt: "never" })], { signal: AbortSignal.abort() });
    expect(result.interrupted).toBe(true);
    expect(result.report.jobs[0]?.status).toBe("queued");
    expect(bench.emulator.counters.requests).toBe(0);
  });
});

describe("runBatch under throttling and faults", () => {
  it("lowers the concurrency when the provider refuses concurrent tasks, reports it once, and finishes every job", async () => {
    bench = await setUp({ faults: { maxConcurrentTasks: 2 } });
    const jobs = Array.from({ length: 12 }, (_, index) =>
      job({ id: `t${index}`, prompt: `throttled ${index}` }),
    );
    const events: BatchEvent[] = [];
    const result = await bench.run(jobs, { concurrency: 8, onEvent: (event) => events.push(event) });

    expect(result.report.succeeded).toBe(12);
    expect(bench.emulator.counters.faults["throttle-concurrency"]).toBeGreaterThan(0);
    expect(events.filter((event) => event.type === "throttled")).toHaveLength(1);
    const lowered = events.find(
      (event) => event.type === "concurrency" && event.change.reason === "throttled",
    );
    expect(lowered?.type === "concurrency" && lowered.change.to).toBeLessThan(8);
    // Refused submits are never charged: one task per prompt.
    expect(Object.values(bench.emulator.counters.tasksByPrompt).every((count) => count === 1)).toBe(true);
  });

  it("stays under the emulator's QPS cap with --qps, with every job done", async () => {
    bench = await setUp({ faults: { qps: 5 } });
    const jobs = Array.from({ length: 10 }, (_, index) => job({ id: `q${index}`, prompt: `qps ${index}` }));
    const result = await bench.run(jobs, { concurrency: 10, qps: 4 });
    expect(result.report.succeeded).toBe(10);
    expect(bench.emulator.counters.faults["throttle-qps"] ?? 0).toBe(0);
  });

  it("ends every job succeeded or failed with a reason under 5xx, resets and truncated downloads", async () => {
    bench = await setUp({
      seed: 7,
      faults: {
        poll: { serverError: 0.15, reset: 0.1 },
        submit: { throttleQps: 0.1 },
        download: { truncate: 0.3, reset: 0.1, serverError: 0.1 },
        taskFailure: 0.1,
      },
    });
    const jobs = Array.from({ length: 30 }, (_, index) =>
      job({ id: `f${index}`, prompt: `faulty ${index}`, provider: index % 2 ? "session" : "visual" }),
    );
    const result = await bench.run(jobs, { concurrency: 6, retries: 3 });

    const { report } = result;
    expect(report.total).toBe(30);
    expect(report.succeeded + report.failed).toBe(30);
    expect(report.succeeded).toBeGreaterThan(15);
    for (const entry of report.jobs) {
      if (entry.status === "succeeded") expect(entry.files.length).toBeGreaterThan(0);
      else expect(entry.error?.message).toBeTruthy();
    }
    expect(await checkFiles(bench, result)).toBeGreaterThan(15);
    expect(Object.values(bench.emulator.counters.tasksByPrompt).every((count) => count === 1)).toBe(true);
    expect(Object.keys(bench.emulator.counters.faults).length).toBeGreaterThan(2);
  });
});
