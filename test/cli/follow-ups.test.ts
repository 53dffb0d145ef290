/**
 * The first ten minutes: every command the CLI prints for the user to run next works when pasted as printed
 * (on the built-in emulator too, whose tasks outlive the process), and nothing is paid for before its outputs
 * can be saved.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskIndexPath } from "../../src/cli/task-index.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { type MainRun, runMain } from "../helpers/cli.js";

let root: string;
let emulator: RunningEmulator;
let runs = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "jimeng-follow-ups-"));
  emulator = await startEmulator({ durations: { image: 20, video: 20 } });
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { onStderr?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<MainRun> {
  runs++;
  return runMain(argv, { env: { JIMENG_POLL_INTERVAL: "5ms", ...env }, ...options });
}

/** A printed command's words (the paths here need no quoting; the test fails if any quoting shows up). */
function words(command: string): string[] {
  expect(command).not.toMatch(/['"\\]/);
  const [program, ...rest] = command.trim().split(/\s+/);
  expect(program).toBe("jimeng");
  return rest;
}

function configDir(): string {
  return join(root, `config-${runs + 1}`);
}

describe("follow-up commands work as printed on the built-in emulator", () => {
  it("submit --emulator prints a `jimeng result` that a later run completes", async () => {
    const env = { JIMENG_CONFIG_DIR: configDir() };
    const submitted = await cli(["submit", "generate", "a red fox", "-n", "1", "--emulator"], env);
    expect(submitted.code).toBe(0);
    const id = submitted.out.trim();
    const printed = /follow it with: (.+)/.exec(submitted.err)?.[1] ?? "";
    expect(printed).toBe(`jimeng result ${id} --wait --download --emulator`);

    const out = join(root, "fox");
    const picked = await cli([...words(printed), "-o", out], env);
    expect(picked.code, picked.err).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);
  });

  it("a paid task whose files cannot be saved prints the exact command that saves them", async () => {
    const env = { JIMENG_CONFIG_DIR: configDir() };
    const out = join(root, "blocked");
    let blocked = false;
    const failed = await cli(["generate", "a lighthouse", "-n", "1", "--emulator", "-o", out], env, {
      onStderr: (text) => {
        // After the submit (the folder was fine then), the folder becomes a file: saving must fail.
        if (blocked || !text.includes("submitted task")) return;
        blocked = true;
        rmSync(out, { recursive: true, force: true });
        writeFileSync(out, "not a folder");
      },
    });
    expect(failed.code).toBe(1);
    const id = /submitted task (\d+)/.exec(failed.err)?.[1];
    const printed = /save the outputs with `([^`]+)`/.exec(failed.err)?.[1] ?? "";
    expect(printed).toBe(`jimeng result ${id} --download -o ${out} --emulator`);

    rmSync(out);
    const saved = await cli(words(printed), env);
    expect(saved.code, saved.err).toBe(0);
    expect(readdirSync(out)).toHaveLength(1);
  });

  it("an interrupted batch prints a resume command that keeps --emulator and finishes the run", async () => {
    const env = { JIMENG_CONFIG_DIR: configDir() };
    const dir = join(root, "batch");
    mkdirSync(dir);
    const file = join(dir, "jobs.jsonl");
    writeFileSync(file, ["a", "b", "c"].map((id) => JSON.stringify({ id, prompt: `job ${id}` })).join("\n"));
    const out = join(dir, "out");
    const stop = new AbortController();
    const first = await cli(["batch", file, "-o", out, "--emulator"], env, {
      signal: stop.signal,
      onStderr: (text) => {
        if ((text.match(/submitted/g) ?? []).length >= 3) stop.abort();
      },
    });
    expect(first.code, first.err).toBe(130);
    const printed = /continue with:\s+(.+)/.exec(first.err)?.[1] ?? "";
    expect(printed).toBe(`jimeng --provider visual --emulator batch ${file} --resume -o ${out}`);

    const resumed = await cli(words(printed), env);
    expect(resumed.code, resumed.err).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.jobs.map((job: { status: string }) => job.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
  });

  it("emulator tasks stay out of the real task list, and each run gets new task ids", async () => {
    const env = { JIMENG_CONFIG_DIR: configDir() };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const run = await cli(["submit", "generate", "the same prompt", "--emulator"], env);
      expect(run.code).toBe(0);
      ids.push(run.out.trim());
    }
    expect(new Set(ids).size).toBe(2);
    expect(existsSync(taskIndexPath(env))).toBe(false);
    expect(readFileSync(taskIndexPath(env, true), "utf8")).toContain(ids[1]);
  });
});

describe("nothing is submitted before the output folder can hold the files", () => {
  const credentials = () => ({
    JIMENG_CONFIG_DIR: configDir(),
    JIMENG_VISUAL_ENDPOINT: emulator.url,
    VOLC_ACCESSKEY: emulator.credentials.accessKeyId,
    VOLC_SECRETKEY: emulator.credentials.secretAccessKey,
  });

  it.for([
    ["a path below a file", "photo.png/sub", "a part of the path is a file"],
    ["a folder the system refuses (/proc)", "/proc/forbidden", "cannot create the folder /proc/forbidden"],
  ] as const)("-o %s exits 2 at once, naming --out, with nothing sent", async ([, target, message]) => {
    const dir = () => (target.startsWith("/") ? target : join(root, target));
    writeFileSync(join(root, "photo.png"), "png");
    const submits = emulator.counters.submits;
    for (const argv of [
      ["generate", "x", "-o", dir()],
      ["result", "7392616336519618328", "-m", "jimeng_t2i_v40", "--download", "-o", dir()],
    ]) {
      const run = await cli(argv, credentials());
      expect(run.code, run.err).toBe(2);
      expect(run.err).toContain("error: --out: ");
      expect(run.err).toContain(message);
    }
    const batch = join(root, "one.jsonl");
    writeFileSync(batch, `${JSON.stringify({ prompt: "x" })}\n`);
    const run = await cli(["batch", batch, "-o", dir()], credentials());
    expect(run.code, run.err).toBe(2);
    expect(emulator.counters.submits).toBe(submits);
  });
});
