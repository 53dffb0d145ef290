/**
 * generate / compose / video in-process through `main()`, against a loopback emulator: both providers, local
 * reference images, progress on a TTY and without one, every bad flag or value refused before any request,
 * and `--emulator` (the emulator in the CLI's own process) for every command.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, type MainRun, runMain } from "../helpers/cli.js";

const CREDENTIALS = {
  accessKeyId: "AKLTgeneratetest0042",
  secretAccessKey: "generate-test-secret-Wd81",
  sessionId: "generatetestsession93ac",
};

let emulator: RunningEmulator;
let root: string;
let photo: string;
let runs = 0;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: CREDENTIALS, durations: { image: 5, video: 10 } });
  root = mkdtempSync(join(tmpdir(), "jimeng-generate-"));
  photo = join(root, "photo.png");
  writeFileSync(photo, proceduralPng("reference", 512, 512));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: string[], options: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}): Promise<MainRun> {
  runs++;
  const settings = emulatorSettings(emulator, join(root, `config-${runs}`));
  return runMain(argv, {
    tty: options.tty === true,
    env: { ...settings, JIMENG_POLL_INTERVAL: "5ms", ...options.env },
  });
}

function out(name: string): string {
  return join(root, name);
}

describe.concurrent("generation commands against the emulator", () => {
  it.for([
    ["visual", ["-m", "jimeng_i2i_v30"]],
    ["session", ["-n", "1"]],
  ] as const)("compose on %s sends a local PNG and saves the result", async ([provider, extra]) => {
    const dir = out(`compose-${provider}`);
    const run = await cli([
      "--provider",
      provider,
      "--json",
      "compose",
      "make it autumn",
      "--image",
      photo,
      ...extra,
      "-o",
      dir,
    ]);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.out);
    expect(document).toMatchObject({ provider, status: "succeeded" });
    expect(existsSync(document.outputs[0].file)).toBe(true);
  });

  it.for(["visual", "session"] as const)("video on %s saves an mp4", async (provider) => {
    const run = await cli([
      "--provider",
      provider,
      "--json",
      "video",
      "waves at sunset",
      "--duration",
      "5",
      "-o",
      out(`video-${provider}`),
    ]);
    expect(run.code).toBe(0);
    const document = JSON.parse(run.out);
    expect(document.outputs).toHaveLength(1);
    expect(document.outputs[0]).toMatchObject({
      contentType: "video/mp4",
      file: expect.stringMatching(/\.mp4$/),
    });
  });

  it("joins the words of an unquoted prompt", async () => {
    const run = await cli([
      "--json",
      "generate",
      "a",
      "small",
      "boat",
      "-n",
      "1",
      "--name",
      "{slug}",
      "-o",
      out("words"),
    ]);
    expect(run.code).toBe(0);
    expect(readdirSync(out("words"))).toEqual(["a-small-boat.png"]);
  });

  it("without a TTY prints the saved paths on stdout and one plain line per phase on stderr", async () => {
    const dir = out("plain");
    const run = await cli(["generate", "a fox", "-n", "2", "-o", dir]);
    expect(run.code).toBe(0);
    const paths = run.out.trim().split("\n");
    expect(paths).toHaveLength(2);
    for (const path of paths) expect(existsSync(path)).toBe(true);
    expect(run.err).toMatch(/• submitting\n/);
    expect(run.err).toMatch(/submitted task \d+ \(visual · jimeng_t2i_v40\)/);
    expect(run.err).toContain("downloading 2 files");
    expect(run.err).toContain(`saved 2 files to ${dir}`);
  });

  it("on a TTY shows the phases with a spinner and ends with the file paths", async () => {
    // The CLI imports ora at the first phase; on a busy machine a 5 ms task could end before that import does
    // (no phase drawn at all). With ora in the module cache, each phase is drawn as it starts.
    await import("ora");
    const run = await cli(["generate", "a fox", "-n", "1", "-o", out("tty")], { tty: true });
    expect(run.code).toBe(0);
    // The spinner rewrites its line in place; what persists is the id, the last phase and the result.
    expect(run.err).toMatch(/submitted task \d+/);
    expect(run.err).toMatch(/downloading \d\/1/);
    expect(run.err).toContain("saved 1 file");
    expect(existsSync(run.out.trim())).toBe(true);
  });

  it("--no-download prints the output URLs and writes nothing", async () => {
    const dir = out("nodownload");
    const run = await cli(["generate", "a fox", "-n", "1", "--no-download", "-o", dir]);
    expect(run.code).toBe(0);
    expect(run.out.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
    expect(existsSync(dir)).toBe(false);
  });

  it("--quiet keeps stderr free of progress", async () => {
    const run = await cli(["--quiet", "generate", "a fox", "-n", "1", "-o", out("quiet")]);
    expect(run.code).toBe(0);
    expect(run.err).toBe("");
  });

  it("missing credentials exit 3 with how to configure them (or --emulator)", async () => {
    const run = await cli(["generate", "a fox"], {
      env: {
        VOLC_ACCESSKEY: undefined,
        VOLC_SECRETKEY: undefined,
        JIMENG_SESSION_ID: undefined,
        ARK_API_KEY: undefined,
      },
    });
    expect(run.code).toBe(3);
    expect(run.err).toContain("--emulator");
  });
});

describe("bad flags and values", () => {
  it("exit 2 naming the flag, and send no request at all", async () => {
    const before = emulator.counters.requests;
    const cases: [string[], string][] = [
      [["generate", "x", "-n", "0"], "--count"],
      [["generate", "x", "--strength", "2"], "--strength"],
      [["generate", "x", "--ratio", "wide"], "--ratio"],
      [["generate", "x", "--ratio", "7:5"], "--ratio"],
      [
        ["generate", "x", "--negative", "blur"],
        "--negative: model jimeng_t2i_v40 does not accept --negative",
      ],
      [["generate", "x", "--no-watermark"], "--no-watermark"],
      [["--provider", "session", "generate", "x", "--size", "2048x2048"], "--size: model jimeng-4.5"],
      [["video", "x", "--duration", "7"], "--duration"],
      [["video", "x", "--duration", "soon"], "--duration"],
      [["generate", "x", "--timeout", "soon"], "--timeout"],
      [["generate", "x", "--name", "{nope}"], "--name"],
      [["generate", "x", "-m", "no-such-model"], "--model"],
      [["compose", "x"], "--image"],
      [["compose", "x", "--image", join(root, "missing.png")], "--image"],
      [["generate", "x", "--endpoint", "not a url"], "--endpoint"],
      [["submit", "generate", "x", "--seed", "1"], "--seed"],
    ];
    const results = await Promise.all(cases.map(([argv]) => cli(argv)));
    results.forEach((run, index) => {
      const [argv, expected] = cases[index] as [string[], string];
      expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
      expect(run.err).toContain(expected);
    });
    expect(emulator.counters.requests).toBe(before);
  });
});

describe.concurrent("--emulator (an emulator in the CLI's own process)", () => {
  const env = { JIMENG_VISUAL_ENDPOINT: undefined, JIMENG_SESSION_ENDPOINT: undefined };

  it.for([
    ["generate", "a cat", "-n", "1"],
    ["compose", "make it autumn", "--image", "PHOTO", "-m", "jimeng_i2i_v30"],
    ["video", "waves", "--duration", "5"],
  ])("%s runs start to finish", async ([command, ...rest]) => {
    const args = rest.map((arg) => (arg === "PHOTO" ? photo : arg));
    const run = await cli(
      ["--emulator", "--json", command as string, ...args, "-o", out(`emulator-${command}`)],
      { env },
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ status: "succeeded" });
  });

  it("submit and doctor run against it", async () => {
    const [submitted, doctor] = await Promise.all([
      cli(["--emulator", "--json", "submit", "generate", "a cat"], { env }),
      cli(["--emulator", "--json", "doctor"], { env }),
    ]);
    expect(submitted.code).toBe(0);
    expect(JSON.parse(submitted.out)).toMatchObject({ provider: "visual", kind: "generate" });
    expect(doctor.code).toBe(0);
    expect(JSON.parse(doctor.out).ok).toBe(true);
  });

  it("result asks it about a task id (a fresh emulator knows none: expired, exit 1)", async () => {
    const run = await cli(["--emulator", "--json", "result", "7392616336519618328", "-m", "jimeng_t2i_v40"], {
      env,
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toMatchObject({ status: "expired", error: { code: "not_found" } });
  });
});
