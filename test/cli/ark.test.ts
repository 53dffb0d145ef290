/**
 * The CLI with the ark provider, in-process against the emulator's Ark half: generate, video, submit, result,
 * cancel and doctor, the provider picked from the model id, and refusals before anything is sent.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { fakeTerminal } from "./helpers.js";

const CREDENTIALS = {
  accessKeyId: "AKLTarktest000000042",
  secretAccessKey: "ark-test-visual-secret",
  sessionId: "arktestsession42",
  arkApiKey: "ark-test-key-7c1d9e20",
};

let fast: RunningEmulator;
/** Its task clock stands still unless a test moves it: a video task stays queued. */
let frozen: RunningEmulator;
let frozenNow = 7_000_000;
let root: string;

beforeAll(async () => {
  fast = await startEmulator({ credentials: CREDENTIALS, durations: { image: 20, video: 30 } });
  frozen = await startEmulator({ credentials: CREDENTIALS, clock: () => frozenNow });
  root = mkdtempSync(join(tmpdir(), "jimeng-ark-cli-"));
});

afterAll(async () => {
  await fast.stop();
  await frozen.stop();
  rmSync(root, { recursive: true, force: true });
});

async function cli(argv: string[], target: RunningEmulator = fast, env: NodeJS.ProcessEnv = {}) {
  const t = fakeTerminal({
    env: {
      JIMENG_CONFIG_DIR: join(root, "config"),
      JIMENG_VISUAL_ENDPOINT: target.url,
      JIMENG_ARK_ENDPOINT: `${target.url}/api/v3`,
      VOLC_ACCESSKEY: CREDENTIALS.accessKeyId,
      VOLC_SECRETKEY: CREDENTIALS.secretAccessKey,
      ARK_API_KEY: CREDENTIALS.arkApiKey,
      JIMENG_POLL_INTERVAL: "20ms",
      ...env,
    },
    signal: new AbortController().signal,
  });
  const code = await main(argv, t.io);
  return { code, out: t.out(), err: t.err() };
}

describe("jimeng with --provider ark", () => {
  it("generate saves the set and prints the paths; --json names the ark provider", async () => {
    const out = join(root, "gen");
    const run = await cli(["--provider", "ark", "generate", "a red fox", "-n", "2", "-o", out, "--json"]);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.out);
    expect(document).toMatchObject({
      provider: "ark",
      model: "doubao-seedream-4-5-251128",
      status: "succeeded",
    });
    expect(document.taskId).toMatch(/^ark-img-/);
    expect(document.outputs).toHaveLength(2);
    for (const output of document.outputs) expect(existsSync(output.file)).toBe(true);
    expect(run.out + run.err).not.toContain(CREDENTIALS.arkApiKey);
  });

  it("picks the ark provider from an Ark model id, though the visual key pair is configured", async () => {
    const run = await cli([
      "generate",
      "a cat",
      "-m",
      "doubao-seedream-3-0-t2i-250415",
      "--no-download",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ provider: "ark", model: "doubao-seedream-3-0-t2i-250415" });
  });

  it("video saves an mp4 from a Seedance task", async () => {
    const out = join(root, "video");
    const run = await cli(["--provider", "ark", "video", "waves at dusk", "--duration", "5", "-o", out]);
    expect(run.code).toBe(0);
    expect(run.out.trim()).toMatch(/\.mp4$/);
    expect(run.err).toMatch(/submitted task cgt-/);
  });

  it("submit then result --download in another invocation reads the recorded image set", async () => {
    const submitted = await cli(["--provider", "ark", "submit", "generate", "a heron", "-n", "2"]);
    expect(submitted.code).toBe(0);
    const id = submitted.out.trim();
    const out = join(root, "later");
    const result = await cli(["result", id, "--download", "-o", out, "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).outputs).toHaveLength(2);
  });

  it("refuses a flag the model does not accept before sending anything", async () => {
    const requests = fast.counters.requests;
    const run = await cli(["--provider", "ark", "generate", "x", "--seed", "3"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("--seed");
    expect(fast.counters.requests).toBe(requests);
  });
});

describe("jimeng cancel", () => {
  it("cancels a queued Ark video task; result then says cancelled; a second cancel says why not", async () => {
    const submitted = await cli(["--provider", "ark", "submit", "video", "a slow river"], frozen);
    const id = submitted.out.trim();
    expect(id).toMatch(/^cgt-/);
    const cancelled = await cli(["cancel", id, "--json"], frozen);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({
      taskId: id,
      provider: "ark",
      status: "cancelled",
      cancelled: true,
    });
    const result = await cli(["result", id], frozen);
    expect(result.code).toBe(1);
    expect(result.err).toContain("cancelled");
    const again = await cli(["cancel", id], frozen);
    expect(again.code).toBe(1);
    expect(again.err).toContain("has ended (cancelled)");
  });

  it("refuses a running task without sending a cancel", async () => {
    const id = (await cli(["--provider", "ark", "submit", "video", "a fast river"], frozen)).out.trim();
    frozenNow += 1000;
    const run = await cli(["cancel", id], frozen);
    expect(run.code).toBe(1);
    expect(run.err).toContain("already running");
  });

  it("says plainly that the visual provider cannot cancel", async () => {
    const run = await cli([
      "--provider",
      "visual",
      "cancel",
      "7392616336519618328",
      "--model",
      "jimeng_t2i_v40",
    ]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("the visual provider cannot cancel a task");
  });
});

describe("jimeng doctor with an Ark key", () => {
  it("checks the key with a free request and fails with a fix for a wrong one", async () => {
    const good = await cli(["doctor", "--json"]);
    const checks = JSON.parse(good.out).checks as { name: string; status: string }[];
    expect(checks.find((check) => check.name === "ark credentials")?.status).toBe("ok");
    const bad = await cli(["doctor", "--json"], fast, { ARK_API_KEY: "wrong-ark-key-0000" });
    expect(bad.code).toBe(3);
    const failed = (JSON.parse(bad.out).checks as { name: string; status: string; fix?: string }[]).find(
      (check) => check.name === "ark credentials",
    );
    expect(failed).toMatchObject({ status: "fail" });
    expect(failed?.fix).toContain("ARK_API_KEY");
    expect(bad.out).not.toContain("wrong-ark-key-0000");
  });
});
