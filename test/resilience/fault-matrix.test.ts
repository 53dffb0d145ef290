/**
 * A batch under every fault the emulator can inject at once — 10 % 5xx, 5 % 50429, 2 % 50430 on submits and
 * polls, 2 % connection resets on polls, 1 % truncated downloads: every job ends succeeded or failed with a
 * reason, none is lost, none is submitted twice, and every saved file is byte for byte what the emulator served.
 * Virtual time: the whole batch's waits and backoffs take no real time.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BatchJob } from "../../src/batch/job.js";
import { type Bench, checkFiles, job, setUp } from "../batch/runner-helpers.js";
import { LONG, summary } from "./helpers.js";

const JOBS = LONG ? 500 : 60;

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.cleanup();
  bench = undefined;
});

describe("fault matrix", () => {
  it(`${JOBS} jobs on both providers: all terminal, 0 lost, 0 duplicate submits, 0 checksum mismatches`, {
    timeout: LONG ? 300_000 : 60_000,
  }, async () => {
    bench = await setUp({
      seed: 7,
      durations: { image: [2_000, 20_000] },
      faults: {
        all: { serverError: 0.1, throttleQps: 0.05, throttleConcurrency: 0.02 },
        poll: { serverError: 0.1, throttleQps: 0.05, throttleConcurrency: 0.02, reset: 0.02 },
        download: { truncate: 0.01 },
      },
    });
    const jobs: BatchJob[] = Array.from({ length: JOBS }, (_, index) =>
      job({
        id: `job-${index}`,
        prompt: `fault matrix prompt ${index}`,
        provider: index % 2 === 0 ? "visual" : "session",
        ...(index % 2 === 0 ? { model: "jimeng_t2i_v31" } : { model: "jimeng-4.5", count: 1 }),
      }),
    );
    const result = await bench.run(jobs, { concurrency: 16, retries: 3 });
    const { report } = result;

    const reported = new Set(report.jobs.map((entry) => entry.id));
    const lost = jobs.filter((j) => !reported.has(j.id)).length;
    const terminal = report.jobs.filter((entry) => entry.status === "succeeded" || entry.status === "failed");
    const failedWithoutReason = report.jobs.filter(
      (entry) => entry.status === "failed" && !entry.error?.message,
    );
    const duplicates = Object.values(bench.emulator.counters.tasksByPrompt).filter(
      (count) => count > 1,
    ).length;
    const checked = await checkFiles(bench, result).catch(() => -1);
    const faults = Object.entries(bench.emulator.counters.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    summary(
      `fault-matrix: ${JOBS} jobs, ${terminal.length} terminal (${report.succeeded} succeeded, ${report.failed} failed), ` +
        `${lost} lost, ${duplicates} duplicate submits, ${checked < 0 ? "some" : 0} checksum mismatches ` +
        `(${checked} files checked; faults injected: ${faults})`,
    );

    expect(lost).toBe(0);
    expect(terminal).toHaveLength(JOBS);
    expect(failedWithoutReason).toHaveLength(0);
    expect(duplicates).toBe(0);
    expect(checked).toBeGreaterThan(0);
    expect(report.succeeded).toBeGreaterThan(JOBS / 2);
  });
});
