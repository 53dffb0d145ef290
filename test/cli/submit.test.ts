/** `jimeng submit` in-process: returns at once with the task id, records it, and checks everything first. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runMain } from "../helpers/cli.js";

const CREDENTIALS = {
  accessKeyId: "AKLTsubmittest00031",
  secretAccessKey: "submit-test-secret-Lx40",
  sessionId: "submittestsession77fe",
};

let emulator: RunningEmulator;
let root: string;

beforeAll(async () => {
  // Tasks that never end: submit must not wait for them.
  emulator = await startEmulator({ credentials: CREDENTIALS, durations: { image: 600_000, video: 600_000 } });
  root = mkdtempSync(join(tmpdir(), "jimeng-submit-"));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: string[]) {
  return runMain(argv, { env: emulatorSettings(emulator, root) });
}

describe("jimeng submit", () => {
  it("prints only the task id on stdout, the next step on stderr, and makes no poll", async () => {
    const polls = emulator.counters.polls;
    const run = await cli(["submit", "generate", "a red fox in snow"]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^\d+\n$/);
    expect(run.err).toContain(`jimeng result ${run.out.trim()} --wait --download`);
    expect(emulator.counters.polls).toBe(polls);
  });

  it("prints the contract's document with --json and records the task for `result`", async () => {
    const run = await cli([
      "--provider",
      "session",
      "--json",
      "submit",
      "video",
      "a paper boat",
      "--duration",
      "5",
    ]);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.out);
    expect(Object.keys(document).sort()).toEqual(["kind", "model", "provider", "taskId"]);
    expect(document).toMatchObject({ provider: "session", kind: "video" });
    const lines = readFileSync(join(root, "tasks.jsonl"), "utf8").trim().split("\n");
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({
      taskId: document.taskId,
      provider: "session",
      model: document.model,
      kind: "video",
      prompt: "a paper boat",
    });
  });

  it("refuses an unknown kind and compose without images, sending nothing", async () => {
    const before = emulator.counters.requests;
    const [kind, compose] = await Promise.all([
      cli(["submit", "paint", "x"]),
      cli(["submit", "compose", "x"]),
    ]);
    expect(kind.code).toBe(2);
    expect(compose.code).toBe(2);
    expect(compose.err).toContain("--image");
    expect(emulator.counters.requests).toBe(before);
  });
});
