/**
 * A batch under every fault the emulator can inject at once — 10 % 5xx, 5 % 50429, 2 % 50430 on submits and
 * polls, 2 % connection resets on polls, 1 % truncated downloads: every job ends succeeded or failed with a
 * reason, none is lost, none is submitted twice, and every saved file is byte for byte what the emulator served.
 * Virtual time: the whole batch's waits and backoffs take no real time.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BatchJob } from "../../src/batch/job.js";
import type { BatchReport } from "../../src/batch/report.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { type Bench, checkFiles, job, setUp } from "../batch/runner-helpers.js";
import {
  binEnv,
  duplicateSubmits,
  LONG,
  SECRETS,
  SecretScanner,
  sha256Of,
  spawnCli,
  summary,
  TERMINAL,
  tempRoot,
} from "./helpers.js";

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

/**
 * The same matrix through the built `jimeng batch`, as a user runs it: a spawned process, the report it writes
 * and prints, the files it leaves on disk. Checked against the emulator's own record: every task it created
 * belongs to a job of the report (none paid for and lost), every task that succeeded there was downloaded,
 * and every file is byte for byte that task's output.
 */
const CLI_JOBS = LONG ? 500 : 24;

describe("fault matrix through the built CLI", () => {
  let emulator: RunningEmulator | undefined;
  let root: ReturnType<typeof tempRoot> | undefined;
  afterEach(async () => {
    await emulator?.stop();
    root?.cleanup();
    emulator = undefined;
    root = undefined;
  });

  it(`jimeng batch with ${CLI_JOBS} jobs on both providers: all terminal, 0 lost, 0 duplicate submits, 0 checksum mismatches`, {
    timeout: LONG ? 900_000 : 60_000,
  }, async () => {
    emulator = await startEmulator({
      seed: 11,
      credentials: SECRETS,
      durations: { image: [100, 600] },
      faults: {
        all: { serverError: 0.1, throttleQps: 0.05, throttleConcurrency: 0.02 },
        poll: { serverError: 0.1, throttleQps: 0.05, reset: 0.02 },
        download: { serverError: 0.1, truncate: 0.01 },
      },
    });
    root = tempRoot("jimeng-fault-cli-");
    const file = join(root.dir, "jobs.jsonl");
    const ids = Array.from({ length: CLI_JOBS }, (_, index) => `job-${index}`);
    writeFileSync(
      file,
      ids
        .map((id, index) =>
          JSON.stringify(
            index % 2 === 0
              ? { id, prompt: `cli fault matrix ${index}`, model: "jimeng_t2i_v31" }
              : {
                  id,
                  prompt: `cli fault matrix ${index}`,
                  provider: "session",
                  model: "jimeng-4.5",
                  count: 1,
                },
          ),
        )
        .join("\n"),
    );
    const out = join(root.dir, "out");
    const run = await spawnCli(["--json", "batch", file, "-o", out, "-c", "16", "--retries", "3"], {
      env: binEnv(emulator, join(root.dir, "config")),
      cwd: root.dir,
    });

    const report = JSON.parse(run.out) as BatchReport;
    const written = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as BatchReport;
    const byId = new Map(report.jobs.map((entry) => [entry.id, entry]));
    const terminal = ids.filter((id) => TERMINAL.has(byId.get(id)?.status ?? "")).length;
    const recorded = new Set(report.jobs.flatMap((entry) => (entry.taskId ? [entry.taskId] : [])));
    const tasks = emulator.tasks();
    // Lost: a job missing from the report or not finished, or a task the emulator made that no job knows.
    const orphans = tasks.filter((task) => !recorded.has(task.id)).length;
    const lost = CLI_JOBS - terminal + orphans;
    // Abandoned: the task succeeded upstream, yet the job did not (polls and downloads are safe to retry).
    const succeededTasks = new Map(tasks.filter((t) => t.phase === "succeeded").map((t) => [t.id, t]));
    const abandoned = report.jobs.filter(
      (entry) => entry.status !== "succeeded" && entry.taskId && succeededTasks.has(entry.taskId),
    ).length;
    let checked = 0;
    let mismatches = 0;
    const problems: string[] = [];
    const byJob = new Map(ids.map((id, index) => [id, index % 2 === 0 ? Number.POSITIVE_INFINITY : 1]));
    for (const entry of report.jobs.filter((e) => e.status === "succeeded")) {
      const served = succeededTasks.get(entry.taskId ?? "")?.outputs ?? [];
      // A session job with `count` keeps the first `count` of the ~4 images upstream makes.
      const expected = byJob.get(entry.id) ?? served.length;
      if (entry.files.length !== Math.min(expected, served.length)) {
        mismatches++;
        problems.push(`${entry.id}: ${entry.files.length} files, ${served.length} served`);
      }
      entry.files.forEach((saved, index) => {
        checked++;
        const path = join(out, saved.file);
        const actual = existsSync(path) ? sha256Of(readFileSync(path)) : "missing";
        if (actual !== served[index]?.sha256 || actual !== saved.sha256) {
          mismatches++;
          problems.push(`${entry.id}: ${saved.file} is ${actual}, served ${served[index]?.sha256}`);
        }
      });
    }
    const duplicates = duplicateSubmits(emulator);
    const scanner = new SecretScanner({
      secretAccessKey: SECRETS.secretAccessKey,
      sessionId: SECRETS.sessionId,
    });
    scanner.scan("stdout", run.out);
    scanner.scan("stderr", run.err);
    scanner.scanTree(out, (f) => f.endsWith(".png") || f.endsWith(".mp4"));
    const faults = Object.entries(emulator.counters.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    summary(
      `fault-matrix (built CLI): ${CLI_JOBS} jobs, ${terminal} terminal (${report.succeeded} succeeded, ${report.failed} failed), ` +
        `${lost} lost, ${abandoned} abandoned, ${duplicates} duplicate submits, ${mismatches} checksum mismatches ` +
        `(${checked} files checked; ${scanner.leaks.length} secret leaks; faults injected: ${faults})`,
    );

    expect(run.code, run.err.slice(-2000)).toBe(report.failed > 0 ? 1 : 0);
    expect(written).toEqual(report);
    expect(report.total).toBe(CLI_JOBS);
    expect(terminal).toBe(CLI_JOBS);
    expect(lost).toBe(0);
    expect(abandoned).toBe(0);
    expect(duplicates).toBe(0);
    expect(problems).toEqual([]);
    expect(mismatches).toBe(0);
    expect(checked).toBe(report.succeeded);
    expect(scanner.leaks).toEqual([]);
    expect(Object.keys(emulator.counters.faults).length).toBeGreaterThan(0);
  });
});
