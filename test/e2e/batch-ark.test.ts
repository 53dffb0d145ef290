/**
 * A mixed-provider batch (Visual API, Ark images, Ark video) run by the built bin, killed with SIGKILL while
 * tasks are in flight, then resumed: every job ends with its files, and nothing is submitted twice. The Ark
 * image jobs' results come back from the result file the killed process wrote (each image is recorded before
 * the job's task id is journaled); the Ark video tasks are polled through the recorded provider.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorEnv, runCli, tempDir, whenStderr } from "./batch-cli.js";

let emulator: RunningEmulator;
let work: { dir: string; cleanup(): Promise<void> };
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  emulator = await startEmulator({ durations: { image: 300, video: 2500 } });
  work = await tempDir("jimeng-batch-ark-");
  // Seedance's first poll would come after its shortest plausible 20 s; the emulator's tasks take 2.5 s.
  env = { ...emulatorEnv(emulator, path.join(work.dir, "config")), JIMENG_POLL_INTERVAL: "100ms" };
});

afterEach(async () => {
  await emulator.stop();
  await work.cleanup();
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("jimeng batch with Ark jobs (built bin)", () => {
  it("survives kill -9 and --resume: every job done, nothing submitted twice, Ark chosen by model id", async () => {
    const jobs = [
      { id: "v1", prompt: "visual one", model: "jimeng_t2i_v31" },
      { id: "a1", prompt: "ark set", model: "doubao-seedream-4-5-251128", count: 2 },
      { id: "a2", prompt: "ark single", provider: "ark", ratio: "16:9" },
      { id: "s1", kind: "video", prompt: "ark video one", model: "seedance-1.0-pro", duration: 5 },
      { id: "s2", kind: "video", prompt: "ark video two", model: "doubao-seedance-1-5-pro-251215" },
    ];
    const file = path.join(work.dir, "mixed.jsonl");
    await writeFile(file, `${jobs.map((job) => JSON.stringify(job)).join("\n")}\n`);

    const first = runCli(["batch", file, "-o", "out", "-c", "5"], { env, cwd: work.dir });
    await whenStderr(first, (text) => (text.match(/submitted \(task/g) ?? []).length >= jobs.length);
    first.child.kill("SIGKILL");
    const killed = await first.exited;
    expect(killed.signal, `${killed.code} ${killed.stderr}`).toBe("SIGKILL");

    const resumed = await runCli(["batch", file, "-o", "out", "--resume", "--json"], { env, cwd: work.dir })
      .exited;
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const report = JSON.parse(resumed.stdout);
    expect(report.jobs.map((job: { id: string; status: string }) => [job.id, job.status])).toEqual(
      jobs.map((job) => [job.id, "succeeded"]),
    );
    expect(Object.values(emulator.counters.tasksByPrompt).every((count) => count === 1)).toBe(true);
    expect(new Set(emulator.tasks().map((task) => task.provider))).toEqual(new Set(["visual", "ark"]));

    const served = new Set(emulator.tasks().flatMap((task) => task.outputs.map((output) => output.sha256)));
    const files = report.jobs.flatMap((job: { files: { file: string; sha256: string }[] }) => job.files);
    // The set (a1) is streamed: a kill between its two images keeps the first, recorded as it arrived.
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const entry of files) {
      const bytes = await readFile(path.join(work.dir, "out", entry.file));
      expect(sha256(bytes)).toBe(entry.sha256);
      expect(served.has(entry.sha256)).toBe(true);
    }
    const journal = await readFile(path.join(work.dir, "out", ".jimeng", "journal.jsonl"), "utf8");
    expect(journal).toContain('"provider":"ark"');
    expect(journal + resumed.stdout + resumed.stderr).not.toContain(emulator.credentials.arkApiKey);
  });
});
