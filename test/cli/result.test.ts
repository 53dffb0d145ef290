/**
 * `jimeng result` and the local task list it reads: pure parsing of tasks.jsonl, then in-process runs against
 * the emulator — by id alone, filled in with --model / --kind for a task this machine did not submit, one look
 * (no --wait) at a task still running, and a failed task.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryFor, findEntry, parseEntry } from "../../src/cli/task-index.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runMain } from "../helpers/cli.js";

const CREDENTIALS = {
  accessKeyId: "AKLTresulttest00077",
  secretAccessKey: "result-test-secret-Pq27",
  sessionId: "resulttestsession51be",
};

describe("the task list", () => {
  const ref = {
    provider: "session" as const,
    taskId: "8875150819357",
    model: "jimeng-4.5",
    kind: "generate" as const,
    submittedAt: "2026-11-23T09:00:00.000Z",
    account: "904f8939",
  };

  it("records what result needs and nothing secret, with the start of the prompt", () => {
    const entry = entryFor(ref, "x".repeat(500));
    expect(entry).toEqual({ ...ref, prompt: "x".repeat(200) });
  });

  it("finds the last entry for an id, skipping lines that are not entries", () => {
    const text = [
      JSON.stringify(entryFor(ref)),
      "{not json",
      JSON.stringify({ taskId: ref.taskId, provider: "elsewhere" }),
      JSON.stringify(entryFor({ ...ref, model: "jimeng-5.0" })),
      "",
    ].join("\n");
    expect(findEntry(text, ref.taskId)?.model).toBe("jimeng-5.0");
    expect(findEntry(text, ref.taskId, "visual")).toBeUndefined();
    expect(findEntry(text, "123")).toBeUndefined();
    expect(
      parseEntry('{"taskId":"1","provider":"visual","model":"m","kind":"nope","submittedAt":"x"}'),
    ).toBeUndefined();
  });
});

let fast: RunningEmulator;
let slow: RunningEmulator;
let root: string;
let runs = 0;

beforeAll(async () => {
  [fast, slow] = await Promise.all([
    startEmulator({ credentials: CREDENTIALS, durations: { image: 5, video: 10 } }),
    startEmulator({ credentials: CREDENTIALS, durations: { image: 600_000, video: 600_000 } }),
  ]);
  root = mkdtempSync(join(tmpdir(), "jimeng-result-"));
});

afterAll(async () => {
  await Promise.all([fast.stop(), slow.stop()]);
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: string[], options: { emulator?: RunningEmulator; configDir?: string } = {}) {
  runs++;
  const settings = emulatorSettings(
    options.emulator ?? fast,
    options.configDir ?? join(root, `config-${runs}`),
  );
  return runMain(argv, { env: { ...settings, JIMENG_POLL_INTERVAL: "5ms" } });
}

describe("jimeng result for a task it does not know", () => {
  it("says which flag to add for a task it does not know, before any request", async () => {
    const before = fast.counters.requests;
    const [visual, session] = await Promise.all([
      cli(["result", "7392616336519618328"]),
      cli(["--provider", "session", "result", "8875150819357"]),
    ]);
    expect(visual.code).toBe(2);
    expect(visual.err).toContain("add --model <req_key>");
    expect(session.code).toBe(2);
    expect(session.err).toContain("--model <name> (or --kind)");
    expect(fast.counters.requests).toBe(before);
  });
});

describe.concurrent("jimeng result", () => {
  it("submit records the task without secrets, and result finds provider, model and kind by id alone", async () => {
    const configDir = join(root, "shared-session");
    const submitted = await cli(
      ["--provider", "session", "submit", "video", "a paper boat", "--duration", "5"],
      {
        configDir,
      },
    );
    expect(submitted.code).toBe(0);
    const taskId = submitted.out.trim();
    const index = readFileSync(join(configDir, "tasks.jsonl"), "utf8");
    expect(index).toContain(`"taskId":"${taskId}"`);
    expect(index).not.toContain(CREDENTIALS.sessionId);

    const result = await cli(["--json", "result", taskId, "--wait", "--download", "-o", join(root, "boat")], {
      configDir,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      taskId,
      provider: "session",
      status: "succeeded",
      outputs: [{ contentType: "video/mp4", file: expect.stringMatching(/a-paper-boat-1\.mp4$/) }],
    });
  });

  it("fills in an unknown task with --model (visual) and reports it", async () => {
    const configDir = join(root, "elsewhere-visual");
    const submitted = await cli(["submit", "generate", "a fox"], { configDir: join(root, "other-machine") });
    const taskId = submitted.out.trim();
    const run = await cli(["--json", "result", taskId, "--wait", "-m", "jimeng-4.0"], { configDir });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ taskId, model: "jimeng_t2i_v40", status: "succeeded" });
  });

  it("fills in an unknown session task with --kind", async () => {
    const submitted = await cli(["--provider", "session", "submit", "generate", "a fox", "-n", "1"], {
      configDir: join(root, "other-session"),
    });
    const taskId = submitted.out.trim();
    const run = await cli([
      "--provider",
      "session",
      "--json",
      "result",
      taskId,
      "--wait",
      "--kind",
      "generate",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ taskId, provider: "session", status: "succeeded" });
  });

  it("without --wait takes one look at a running task: its status, exit 0, finishedAt null", async () => {
    const configDir = join(root, "slow");
    const submitted = await cli(["submit", "generate", "a slow fox"], { emulator: slow, configDir });
    const taskId = submitted.out.trim();
    const [human, json] = await Promise.all([
      cli(["result", taskId], { emulator: slow, configDir }),
      cli(["--json", "result", taskId], { emulator: slow, configDir }),
    ]);
    expect(human.code).toBe(0);
    expect(human.out.trim()).toMatch(/^(queued|running)$/);
    expect(human.err).toContain("add --wait");
    expect(JSON.parse(json.out)).toMatchObject({ taskId, timings: { finishedAt: null, polls: 1 } });
  });

  it("a failed task exits 1 with its code and request id", async () => {
    const configDir = join(root, "failed");
    const submitted = await cli(["submit", "generate", "a cat [fail:50412]"], { configDir });
    const run = await cli(["--json", "result", submitted.out.trim(), "--wait"], { configDir });
    expect(run.code).toBe(1);
    const document = JSON.parse(run.out);
    expect(document).toMatchObject({ status: "failed", error: { code: 50412 } });
    expect(document.error.requestId).toBeTruthy();
  });
});
