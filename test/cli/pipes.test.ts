/**
 * The CLI in a pipeline: `-` reads a prompt or a batch file from stdin, `--prompt-file` reads a prompt from a
 * file, and `batch` without a terminal on stdout prints the saved paths there, one per line, like `generate`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stdinBatchFormat } from "../../src/cli/stdin.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runMain } from "../helpers/cli.js";

let emulator: RunningEmulator;
let root: string;
let runs = 0;

beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5, video: 10 } });
  root = mkdtempSync(join(tmpdir(), "jimeng-pipes-"));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A session-provider run with its own config folder (so its task list is its own). */
function cli(argv: string[], options: { stdin?: string; tty?: boolean; configDir?: string } = {}) {
  runs++;
  const configDir = options.configDir ?? join(root, `config-${runs}`);
  const env = {
    ...emulatorSettings(emulator, configDir),
    JIMENG_PROVIDER: "session",
    JIMENG_POLL_INTERVAL: "5ms",
  };
  return runMain(argv, {
    env,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.tty ? { tty: true } : {}),
  }).then((run) => ({ ...run, configDir }));
}

function recordedPrompts(configDir: string): string[] {
  return (
    readFileSync(join(configDir, "tasks.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { outcome?: string; prompt?: string })
      // Submissions only: a line saying how a task ended has no prompt.
      .flatMap((entry) => (entry.outcome === undefined ? [entry.prompt ?? ""] : []))
  );
}

describe("prompts from stdin and files", () => {
  it("`-` reads the prompt from stdin (without its final newline)", async () => {
    const run = await cli(["submit", "generate", "-", "-n", "1"], { stdin: "a red fox\nin the snow\n" });
    expect(run.code, run.err).toBe(0);
    expect(recordedPrompts(run.configDir)).toEqual(["a red fox\nin the snow"]);
  });

  it("--prompt-file reads it from a file, and generate saves as usual", async () => {
    const file = join(root, "prompt.txt");
    writeFileSync(file, "a lighthouse at dawn\n");
    const run = await cli(["generate", "--prompt-file", file, "-n", "1", "-o", join(root, "from-file")]);
    expect(run.code, run.err).toBe(0);
    expect(recordedPrompts(run.configDir)).toEqual(["a lighthouse at dawn"]);
    expect(run.out.trim().split("\n")).toHaveLength(1);
  });

  it("refuses words and --prompt-file together, an empty stdin and a missing file, before any request", async () => {
    const before = emulator.counters.requests;
    const file = join(root, "prompt.txt");
    writeFileSync(file, "x");
    const both = await cli(["submit", "generate", "a cat", "--prompt-file", file]);
    const empty = await cli(["submit", "generate", "-"], { stdin: "\n" });
    const missing = await cli(["submit", "generate", "--prompt-file", join(root, "nope.txt")]);
    expect([both.code, empty.code, missing.code]).toEqual([2, 2, 2]);
    expect(both.err).toContain("--prompt-file: give the prompt either as words or with --prompt-file");
    expect(empty.err).toContain("prompt: must not be empty");
    expect(missing.err).toMatch(/--prompt-file: cannot read .*nope\.txt \(ENOENT\)/);
    expect(emulator.counters.requests).toBe(before);
  });
});

describe("batch in a pipeline", () => {
  const jobs = `${JSON.stringify({ id: "fox", prompt: "a fox", count: 1 })}\n${JSON.stringify({ id: "owl", prompt: "an owl", count: 1 })}\n`;

  it("prints the saved paths on stdout as the jobs end, one per line, and the summary on stderr", async () => {
    const file = join(root, "jobs.jsonl");
    writeFileSync(file, jobs);
    const out = join(root, "batch-out");
    const run = await cli(["batch", file, "-o", out]);
    expect(run.code, run.err).toBe(0);
    const paths = run.out.trim().split("\n");
    expect(paths).toHaveLength(2);
    for (const saved of paths) {
      expect(isAbsolute(saved)).toBe(true);
      expect(existsSync(saved)).toBe(true);
    }
    // In the order the jobs ended.
    expect(paths.map((saved) => /(fox|owl)/.exec(saved)?.[1]).sort()).toEqual(["fox", "owl"]);
    expect(run.err).toContain("2 of 2 succeeded, 0 failed");
  });

  it("on a terminal, stdout gets no paths (the summary is enough)", async () => {
    const file = join(root, "jobs-tty.jsonl");
    writeFileSync(file, jobs);
    const run = await cli(["batch", file, "-o", join(root, "batch-tty")], { tty: true });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toBe("");
  });

  it("`-` reads the jobs from stdin, keeps a copy beside the journal, and --resume with that copy pays nothing again", async () => {
    const out = join(root, "stdin-out");
    const first = await cli(["batch", "-", "-o", out], { stdin: jobs });
    expect(first.code, first.err).toBe(0);
    const copy = /read the jobs from stdin into (\S+)/.exec(first.err)?.[1] as string;
    expect(copy.startsWith(join(out, ".jimeng"))).toBe(true);
    expect(readFileSync(copy, "utf8")).toBe(jobs);

    const submits = emulator.counters.submits;
    const again = await cli(["batch", copy, "--resume", "-o", out]);
    expect(again.code, again.err).toBe(0);
    // Nothing was saved by the resumed run: every job had succeeded before.
    expect(again.out).toBe("");
    expect(first.out.trim().split("\n")).toHaveLength(2);
    expect(emulator.counters.submits).toBe(submits);
  });

  it("`-` with --dry-run plans a prompt list from stdin and leaves no copy behind", async () => {
    const run = await cli(["batch", "-", "--dry-run", "-o", join(root, "dry")], {
      stdin: "a cat\n# a comment\na dog\n",
    });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain("2 jobs: 2 to submit");
    expect(existsSync(join(root, "dry"))).toBe(false);
  });

  it("a relative image path in jobs from stdin is a line error, nothing sent", async () => {
    const before = emulator.counters.requests;
    const run = await cli(["batch", "-", "-o", join(root, "rel")], {
      stdin: `${JSON.stringify({ kind: "compose", prompt: "autumn", images: ["photo.png"] })}\n`,
    });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/:1: images\.0: /);
    expect(emulator.counters.requests).toBe(before);
  });

  it("tells the formats of stdin apart", () => {
    expect(stdinBatchFormat('{"prompt":"a"}\n{"prompt":"b"}\n')).toBe("jsonl");
    expect(stdinBatchFormat('[{"prompt":"a"}]')).toBe("json");
    expect(stdinBatchFormat('{\n  "jobs": [{"prompt":"a"}]\n}')).toBe("json");
    expect(stdinBatchFormat('{"defaults":{},"jobs":[]}')).toBe("json");
    expect(stdinBatchFormat("a cat\na dog\n")).toBe("txt");
  });
});
