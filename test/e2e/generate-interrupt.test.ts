/**
 * Ctrl-C while `jimeng generate`'s submit is in flight (the built bin, spawned): the emulator holds the
 * answer of a submit that already created its task, the way a slow server does when the task is paid for.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorEnv, runCli, tempDir } from "../helpers/cli.js";

let emulator: RunningEmulator;
let work: { dir: string; cleanup(): Promise<void> };

afterEach(async () => {
  await emulator.stop();
  await work.cleanup();
});

async function interruptMidSubmit(submitDelayMs: number) {
  emulator = await startEmulator({ submitDelayMs, durations: { image: 60_000 } });
  work = await tempDir("jimeng-generate-interrupt-");
  const configDir = path.join(work.dir, "config");
  const run = runCli(["--provider", "visual", "generate", "a paid cat", "-o", "out"], {
    env: emulatorEnv(emulator, configDir),
    cwd: work.dir,
  });
  // The task exists upstream; its answer is still held.
  await vi.waitFor(() => expect(emulator.counters.tasks).toBe(1), { timeout: 10_000, interval: 10 });
  run.child.kill("SIGINT");
  const result = await run.exited;
  const list = await readFile(path.join(configDir, "tasks.jsonl"), "utf8").catch(() => "");
  return { result, list };
}

describe("jimeng generate: Ctrl-C during the submit", () => {
  it("waits for the in-flight submit's answer, records the task id and says it may be charged", async () => {
    const { result, list } = await interruptMidSubmit(800);
    const [task] = emulator.tasks();
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain(`task ${task?.id} was submitted (it may be charged)`);
    expect(JSON.parse(list.trim())).toMatchObject({ taskId: task?.id, provider: "visual" });
  });

  it("without an answer in the grace period, records the submit as 'submitting' and says it may have been charged", async () => {
    const { result, list } = await interruptMidSubmit(30_000);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("may have accepted the task and charged for it");
    expect(result.stderr).toContain('recorded as "submitting"');
    expect(JSON.parse(list.trim())).toMatchObject({
      status: "submitting",
      provider: "visual",
      kind: "generate",
    });
  });
});
