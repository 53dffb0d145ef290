/** `jimeng batch` as users run it: the built bin, spawned, against the emulator in this process. */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorEnv, runCli, tempDir, whenStderr } from "../helpers/cli.js";

let emulator: RunningEmulator;
let work: { dir: string; cleanup(): Promise<void> };
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  emulator = await startEmulator({ durations: { image: 300, video: 600 } });
  work = await tempDir("jimeng-batch-e2e-");
  env = emulatorEnv(emulator, path.join(work.dir, "config"));
});

afterEach(async () => {
  await emulator.stop();
  await work.cleanup();
});

async function jobsFile(name: string, lines: readonly unknown[]): Promise<string> {
  const file = path.join(work.dir, name);
  await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  return file;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("jimeng batch (built bin)", () => {
  it("rejects a file with bad models and options as file:line: field: message, exit 2, zero requests", async () => {
    const file = await jobsFile("bad.jsonl", [
      { id: "ok", prompt: "fine" },
      { id: "model", prompt: "x", model: "no-such-model" },
      { id: "ratio", prompt: "y", ratio: "7:3" },
      { id: "typo", prompt: "z", promt: "w" },
    ]);
    const result = await runCli(["batch", file, "-o", "out"], { env, cwd: work.dir }).exited;

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("bad.jsonl:2: model:");
    expect(result.stderr).toContain("bad.jsonl:3: ratio: 7:3 is not a ratio of");
    expect(result.stderr).toContain('bad.jsonl:4: promt: unknown field; did you mean "prompt"?');
    expect(result.stderr).not.toContain("bad.jsonl:1");
    expect(emulator.counters.requests).toBe(0);
  });

  it("prints the plan and the estimated cost with --dry-run and sends nothing", async () => {
    const file = await jobsFile("plan.jsonl", [
      { id: "a", prompt: "two of these", count: 2 },
      { id: "b", kind: "video", prompt: "a clip" },
    ]);
    const result = await runCli(["--json", "batch", file, "--dry-run"], { env, cwd: work.dir }).exited;

    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.jobs.map((job: { id: string; action: string }) => [job.id, job.action])).toEqual([
      ["a", "submit"],
      ["b", "submit"],
    ]);
    expect(plan.estimate).toEqual({ images: 2, videos: 1 });
    expect(emulator.counters.requests).toBe(0);
  });

  it("streams the plan of --dry-run --resume from the journal: done jobs skipped, changed and new ones submitted", async () => {
    const first = await jobsFile("resume-plan.jsonl", [
      { id: "a", prompt: "stays the same" },
      { id: "b", prompt: "changes later" },
    ]);
    expect((await runCli(["batch", first, "-o", "out"], { env, cwd: work.dir }).exited).code).toBe(0);
    const requests = emulator.counters.requests;
    const second = await jobsFile("resume-plan.jsonl", [
      { id: "a", prompt: "stays the same" },
      { id: "b", prompt: "changed" },
      { id: "c", prompt: "new", count: 2 },
    ]);
    const args = ["batch", second, "-o", "out", "--dry-run", "--resume"];
    const json = await runCli(["--json", ...args], { env, cwd: work.dir }).exited;
    const table = await runCli(args, { env, cwd: work.dir }).exited;

    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(
      plan.jobs.map((job: { id: string; action: string; reason: string }) => [
        job.id,
        job.action,
        job.reason,
      ]),
    ).toEqual([
      ["a", "skip", "succeeded"],
      ["b", "submit", "changed"],
      ["c", "submit", "new"],
    ]);
    expect(plan.counts).toEqual({ skip: 1, poll: 0, submit: 2 });
    expect(plan.estimate).toEqual({ images: 3, videos: 0 });
    expect(table.stdout).toContain("skip (succeeded)");
    expect(table.stdout).toContain("3 jobs: 2 to submit, 0 to poll, 1 to skip");
    expect(emulator.counters.requests).toBe(requests);
  });

  it("runs jobs on both providers, saves every file with the emulator's sha256, and prints the report with --json", async () => {
    const file = await jobsFile("mixed.jsonl", [
      { id: "v1", prompt: "visual one", model: "jimeng_t2i_v31" },
      { id: "v2", prompt: "visual two", model: "jimeng_t2i_v31", ratio: "16:9" },
      { id: "s1", prompt: "session one", provider: "session", model: "jimeng-3.0", count: 1 },
      { id: "bad", prompt: "fails on the server [fail:50511]", model: "jimeng_t2i_v31" },
    ]);
    const result = await runCli(["--json", "batch", file, "-o", "assets", "-c", "4"], { env, cwd: work.dir })
      .exited;

    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ total: 4, succeeded: 3, failed: 1 });
    expect(report.jobs.map((job: { status: string }) => job.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "failed",
    ]);
    expect(report.jobs[3].error.code).toBe(50511);
    const served = new Set(emulator.tasks().flatMap((task) => task.outputs.map((output) => output.sha256)));
    for (const job of report.jobs.slice(0, 3)) {
      for (const entry of job.files) {
        const bytes = await readFile(path.join(work.dir, "assets", entry.file));
        expect(sha256(bytes)).toBe(entry.sha256);
        expect(served.has(entry.sha256)).toBe(true);
      }
    }
    expect(new Set(emulator.tasks().map((task) => task.provider))).toEqual(new Set(["visual", "session"]));
    const written = JSON.parse(await readFile(path.join(work.dir, "assets", "report.json"), "utf8"));
    expect(written).toEqual(report);
    // Human progress went to stderr, one plain line per transition (no TTY), with no secrets in it.
    expect(result.stderr).toContain("v1: submitted");
    expect(result.stderr).not.toContain(emulator.credentials.secretAccessKey);
    expect(result.stderr).not.toContain(emulator.credentials.sessionId);
  });

  it("stops on Ctrl-C with exit 130 and the resume command; --resume finishes without submitting again", async () => {
    const jobs = Array.from({ length: 4 }, (_, index) => ({
      id: `j${index}`,
      prompt: `interrupted ${index}`,
      model: "jimeng_t2i_v31",
    }));
    const file = await jobsFile("jobs.jsonl", jobs);
    const first = runCli(["batch", file, "-o", "out", "-c", "4"], { env, cwd: work.dir });
    await whenStderr(first, (text) => (text.match(/submitted \(task/g) ?? []).length >= 4);
    first.child.kill("SIGINT");
    const stopped = await first.exited;

    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain("--resume -o out");
    const report = JSON.parse(await readFile(path.join(work.dir, "out", "report.json"), "utf8"));
    expect(report.interrupted).toBe(true);
    expect(report.jobs.map((job: { status: string }) => job.status)).toEqual([
      "running",
      "running",
      "running",
      "running",
    ]);

    const resumed = await runCli(["batch", file, "-o", "out", "--resume"], { env, cwd: work.dir }).exited;
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("4 to poll");
    expect(Object.values(emulator.counters.tasksByPrompt)).toEqual([1, 1, 1, 1]);
  });
});
