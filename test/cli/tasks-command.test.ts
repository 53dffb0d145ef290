/**
 * `jimeng tasks`: the local task list read back — each submission with how it ended and its files, newest
 * first, from `generate`, `submit` and `result` runs in separate processes' worth of `main()` calls.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskHistoryRow } from "../../src/cli/task-history.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runMain } from "../helpers/cli.js";

let emulator: RunningEmulator;
let root: string;

beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5, video: 10 } });
  root = mkdtempSync(join(tmpdir(), "jimeng-tasks-"));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: string[], configDir: string) {
  return runMain(argv, {
    env: {
      ...emulatorSettings(emulator, configDir),
      JIMENG_PROVIDER: "session",
      JIMENG_POLL_INTERVAL: "5ms",
    },
  });
}

describe("jimeng tasks", () => {
  it("lists each task with how it ended and its files, newest first; a submit stays `submitted` until a result", async () => {
    const config = join(root, "config-a");
    const out = join(root, "out-a");
    const generated = await cli(["generate", "a red fox", "-n", "1", "-o", out], config);
    expect(generated.code, generated.err).toBe(0);
    const submitted = await cli(["submit", "generate", "an owl at night", "-n", "1"], config);
    const taskId = submitted.out.trim();

    const before = await cli(["--json", "tasks"], config);
    expect(before.code, before.err).toBe(0);
    const listed = (JSON.parse(before.out) as { tasks: TaskHistoryRow[] }).tasks;
    expect(listed.map((task) => [task.status, task.prompt])).toEqual([
      ["submitted", "an owl at night"],
      ["succeeded", "a red fox"],
    ]);
    expect(listed[1]?.files).toEqual([generated.out.trim()]);

    const result = await cli(["result", taskId, "--wait", "--download", "-o", out], config);
    expect(result.code, result.err).toBe(0);
    const after = await cli(["tasks"], config);
    expect(after.code).toBe(0);
    expect(after.out).toMatch(
      new RegExp(`${taskId} +session · \\S+ +generate +succeeded +1 file +an owl at night`),
    );
    expect(after.out).toContain(`    ${result.out.trim()}`);
  });

  it("says where it looked when there are no tasks, and --limit bounds the list", async () => {
    const config = join(root, "config-b");
    const empty = await cli(["tasks"], config);
    expect(empty.code).toBe(0);
    expect(empty.out).toContain(`no tasks yet in ${join(config, "tasks.jsonl")}`);
    await cli(["submit", "generate", "one", "-n", "1"], config);
    await cli(["submit", "generate", "two", "-n", "1"], config);
    const limited = await cli(["--json", "tasks", "--limit", "1"], config);
    expect((JSON.parse(limited.out) as { tasks: TaskHistoryRow[] }).tasks.map((task) => task.prompt)).toEqual(
      ["two"],
    );
    const bad = await cli(["tasks", "--limit", "0"], config);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--limit");
  });
});
