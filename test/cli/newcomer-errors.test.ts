/**
 * Where a newcomer was left guessing: a model of the other provider, a typo, a dry run without credentials, a
 * session id pasted with a non-ASCII character, a local mistake shown after "submitting", and compose refusing
 * a local file without naming a model that takes one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { runMain } from "../helpers/cli.js";

let emulator: RunningEmulator;
let root: string;

beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 10, video: 10 } });
  root = mkdtempSync(join(tmpdir(), "jimeng-newcomer-"));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: string[], env: NodeJS.ProcessEnv = visual()) {
  return runMain(argv, { env: { JIMENG_CONFIG_DIR: join(root, "config"), ...env } });
}

function visual(): NodeJS.ProcessEnv {
  return {
    JIMENG_VISUAL_ENDPOINT: emulator.url,
    VOLC_ACCESSKEY: emulator.credentials.accessKeyId,
    VOLC_SECRETKEY: emulator.credentials.secretAccessKey,
  };
}

describe("a newcomer's mistakes get an answer that says what to do, and send nothing", () => {
  it("a session model asked of the Visual API names its provider and how to pick it", async () => {
    const before = emulator.counters.requests;
    const run = await cli(["generate", "a lighthouse", "-m", "jimeng-4.5"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('unknown Visual model "jimeng-4.5"');
    expect(run.err).toContain("hint: jimeng-4.5 is a session model: add --provider session");
    expect(emulator.counters.requests).toBe(before);
  });

  it("a typo gets the closest model name", async () => {
    const run = await cli(["generate", "a lighthouse", "-m", "jimeng-4.7"]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/hint: did you mean jimeng-4\.[06]\?/);
  });

  it("batch --dry-run checks a file without any credentials", async () => {
    const file = join(root, "jobs.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ prompt: "a" })}\n${JSON.stringify({ prompt: "b", provider: "session" })}\n`,
    );
    const run = await cli(["batch", file, "--dry-run"], {});
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain("dry run: nothing was sent");
  });

  it("a session id with a non-ASCII character is a configuration error at start, not a failed request", async () => {
    const before = emulator.counters.requests;
    const run = await cli(["generate", "a cat"], {
      JIMENG_SESSION_ENDPOINT: emulator.url,
      JIMENG_SESSION_ID: "abc\u2013def",
    });
    expect(run.code).toBe(3);
    expect(run.err).toContain("JIMENG_SESSION_ID must be printable ASCII");
    expect(run.err).not.toContain("abc");
    expect(emulator.counters.requests).toBe(before);
  });

  it("a bad local image ends before any 'submitting' line", async () => {
    const image = join(root, "broken.png");
    writeFileSync(image, "P");
    const run = await cli(["compose", "make it autumn", "--image", image, "-m", "jimeng_i2i_v30"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("--image");
    expect(run.err).not.toContain("submitting");
  });

  it("compose refusing a local file names a model that takes one", async () => {
    const image = join(root, "photo.png");
    writeFileSync(image, "P");
    const run = await cli(["compose", "make it autumn", "--image", image]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("accepts image URLs only");
    expect(run.err).toContain("hint: models that take local files for compose: jimeng_i2i_v30");
    expect(run.err).not.toContain("submitting");
  });
});
