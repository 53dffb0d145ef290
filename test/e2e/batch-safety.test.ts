/**
 * Money safety of `jimeng batch` as users run it (the built bin, spawned): one run per output folder, resume
 * on the account that owns each task, resume that checks the disk, and failed polls that never pay twice.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorEnv, runCli, tempDir, whenStderr } from "../helpers/cli.js";

let emulator: RunningEmulator;
let work: { dir: string; cleanup(): Promise<void> };
let env: NodeJS.ProcessEnv;

async function setUp(options: EmulatorOptions): Promise<void> {
  emulator = await startEmulator(options);
  work = await tempDir("jimeng-batch-safety-");
  env = emulatorEnv(emulator, path.join(work.dir, "config"));
}

afterEach(async () => {
  await emulator.stop();
  await work.cleanup();
});

async function jobsFile(name: string, lines: readonly unknown[]): Promise<string> {
  const file = path.join(work.dir, name);
  await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  return file;
}

const submittedCount = (text: string) => (text.match(/submitted \(task/g) ?? []).length;

describe("jimeng batch: one run per output folder", () => {
  it("a second run on the same -o exits 5 at once, sends nothing and names the process holding it", async () => {
    await setUp({ durations: { image: 1500 } });
    const file = await jobsFile("jobs.jsonl", [
      { id: "a", prompt: "locked one", model: "jimeng_t2i_v31" },
      { id: "b", prompt: "locked two", model: "jimeng_t2i_v31" },
    ]);
    const first = runCli(["batch", file, "-o", "out"], { env, cwd: work.dir });
    await whenStderr(first, (text) => submittedCount(text) >= 2);

    for (const args of [
      ["batch", file, "-o", "out"],
      ["batch", file, "-o", "out", "--resume"],
    ]) {
      const second = await runCli(args, { env, cwd: work.dir }).exited;
      expect(second.code, second.stderr).toBe(5);
      expect(second.stderr).toContain(`process ${first.child.pid}`);
      expect(second.stderr).toContain("nothing was sent");
    }
    expect(emulator.counters.submits).toBe(2);

    const done = await first.exited;
    expect(done.code, done.stderr).toBe(0);
    const report = JSON.parse(await readFile(path.join(work.dir, "out", "report.json"), "utf8"));
    expect(report).toMatchObject({ total: 2, succeeded: 2 });
  });

  it("takes over the lock of a run that was killed (stale: its pid is gone)", async () => {
    await setUp({ durations: { image: 1500 } });
    const file = await jobsFile("jobs.jsonl", [{ id: "a", prompt: "killed run", model: "jimeng_t2i_v31" }]);
    const first = runCli(["batch", file, "-o", "out"], { env, cwd: work.dir });
    await whenStderr(first, (text) => submittedCount(text) >= 1);
    first.child.kill("SIGKILL");
    await first.exited;
    await expect(readFile(path.join(work.dir, "out", ".jimeng", "lock"), "utf8")).resolves.toContain(
      String(first.child.pid),
    );

    const resumed = await runCli(["batch", file, "-o", "out", "--resume"], { env, cwd: work.dir }).exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(emulator.counters.submits).toBe(1);
  });
});

describe("jimeng batch --resume: the account that owns the task", () => {
  it("polls recorded tasks through their own provider, refuses without its credentials, and prints every option", async () => {
    await setUp({ durations: { image: 1500 } });
    const file = await jobsFile(
      "jobs.jsonl",
      Array.from({ length: 3 }, (_, index) => ({ id: `s${index}`, prompt: `session job ${index}` })),
    );
    const first = runCli(["--provider", "session", "batch", file, "-o", "out", "-c", "3", "--retries", "1"], {
      env,
      cwd: work.dir,
    });
    await whenStderr(first, (text) => submittedCount(text) >= 3);
    first.child.kill("SIGINT");
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(
      `jimeng --provider session batch ${file} --resume -o out -c 3 --retries 1`,
    );
    const journal = await readFile(path.join(work.dir, "out", ".jimeng", "journal.jsonl"), "utf8");
    const submitted = journal
      .split("\n")
      .filter((line) => line.includes('"submitted"'))
      .map((line) => JSON.parse(line));
    expect(submitted.map((record) => [record.provider, record.endpoint])).toEqual([
      ["session", emulator.url],
      ["session", emulator.url],
      ["session", emulator.url],
    ]);

    const before = emulator.counters.requests;
    const { JIMENG_SESSION_ID: _, ...withoutSession } = env;
    const refused = await runCli(["--provider", "visual", "batch", file, "-o", "out", "--resume"], {
      env: withoutSession,
      cwd: work.dir,
    }).exited;
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain("3 recorded task(s) were submitted through the session provider");
    expect(emulator.counters.requests).toBe(before);

    const resumed = await runCli(["--provider", "visual", "batch", file, "-o", "out", "--resume"], {
      env,
      cwd: work.dir,
    }).exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(emulator.counters.submits).toBe(3);
    expect(emulator.tasks().map((task) => task.provider)).toEqual(["session", "session", "session"]);
  });
});

describe("jimeng batch --resume checks the disk", () => {
  it("downloads a deleted file again (exit 0); when it cannot, reports the job as missing (exit 1)", async () => {
    const faults: { download?: { serverError: number } } = {};
    await setUp({ durations: { image: 200 }, faults });
    const file = await jobsFile("jobs.jsonl", [
      { id: "a", prompt: "kept", model: "jimeng_t2i_v31" },
      { id: "b", prompt: "deleted", model: "jimeng_t2i_v31" },
    ]);
    const first = await runCli(["batch", file, "-o", "out"], { env, cwd: work.dir }).exited;
    expect(first.code, first.stderr).toBe(0);
    const deleted = path.join(work.dir, "out", "b-1.png");
    const bytes = await readFile(deleted);
    await rm(deleted);

    const resumed = await runCli(["--json", "batch", file, "-o", "out", "--resume"], { env, cwd: work.dir })
      .exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await readFile(deleted)).toEqual(bytes);
    expect(JSON.parse(resumed.stdout).jobs[1]).toMatchObject({ id: "b", status: "succeeded" });
    expect(emulator.counters.submits).toBe(2);

    // The task's outputs can no longer be downloaded: nothing brings the file back, and the run says so.
    await rm(deleted);
    faults.download = { serverError: 1 };
    const missing = await runCli(["--json", "batch", file, "-o", "out", "--resume", "--retries", "0"], {
      env,
      cwd: work.dir,
    }).exited;
    expect(missing.code, missing.stderr).toBe(1);
    expect(JSON.parse(missing.stdout).jobs[1]).toMatchObject({
      id: "b",
      status: "failed",
      files: [],
      error: { code: "OUTPUT_MISSING" },
    });
    expect(missing.stderr).toContain("b-1.png is missing");
    expect(emulator.counters.submits).toBe(2);
  });
});

describe("jimeng batch --qps", () => {
  it("is a hard cap as the server counts it: no request refused by a server that allows exactly that many", async () => {
    await setUp({ durations: { image: 300 }, faults: { qps: 10 } });
    const file = await jobsFile(
      "jobs.jsonl",
      Array.from({ length: 12 }, (_, index) => ({
        id: `q${index}`,
        prompt: `capped ${index}`,
        model: "jimeng_t2i_v31",
      })),
    );
    const result = await runCli(["--json", "batch", file, "-o", "out", "-c", "12", "--qps", "10"], {
      env,
      cwd: work.dir,
    }).exited;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ total: 12, succeeded: 12 });
    expect(emulator.counters.faults["throttle-qps"] ?? 0).toBe(0);
    expect(emulator.counters.submits).toBe(12);
  });
});
