/**
 * A corpus of malformed batch files and flag combinations. Every one must exit 2 with a message that names
 * the field (with `file:line` for batch files) or the flag, and send nothing (the emulator's request counter
 * does not move).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { cli, SECRETS, summary, tempRoot } from "./helpers.js";

interface Case {
  name: string;
  /** A batch file: its name and content. */
  file?: [string, string];
  /** Arguments; `FILE` stands for the batch file's path. */
  argv: string[];
  /** Every string must appear in stderr (e.g. "jobs.jsonl:2", "ratio", "--duration"). */
  expect: string[];
}

const long = "a".repeat(801);
const line = (job: Record<string, unknown>) => JSON.stringify({ prompt: "a cat", ...job });
const jsonl = (...jobs: Record<string, unknown>[]) => jobs.map(line).join("\n");

/** One bad value per job field, each on line 2 after a good line. */
const fieldCases: Case[] = (
  [
    ["count", "two"],
    ["count", 0],
    ["count", 99],
    ["count", 1.5],
    ["seed", "random"],
    ["seed", -5],
    ["strength", 1.5],
    ["strength", "strong"],
    ["ratio", "7:3"],
    ["ratio", "wide"],
    ["ratio", 16],
    ["resolution", "8k"],
    ["size", "big"],
    ["duration", "long"],
    ["kind", "paint"],
    ["provider", "other"],
    ["model", "nope"],
    ["model", 4],
    ["images", "cat.png"],
    ["images", [42]],
    ["negative", 5],
    ["name", 7],
    ["prompt", ""],
    ["prompt", "   "],
    ["prompt", long],
    ["prompt", 12],
    ["id", "a/b"],
    ["id", "x".repeat(200)],
    ["promt", "typo"],
    ["colour", "red"],
  ] as const
).map(([field, value]) => ({
  name: `jsonl: ${field} = ${JSON.stringify(value).slice(0, 30)}`,
  file: [
    "jobs.jsonl",
    `${line({ id: "ok" })}\n${JSON.stringify({ prompt: "a dog", id: "bad", [field]: value })}`,
  ],
  argv: ["batch", "FILE"],
  expect: ["jobs.jsonl:2", field],
}));

const fileCases: Case[] = [
  {
    name: "jsonl: not JSON",
    file: ["jobs.jsonl", `${line({})}\n{prompt: oops`],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:2"],
  },
  {
    name: "jsonl: an array on a line",
    file: ["jobs.jsonl", `${line({})}\n[1,2]`],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:2"],
  },
  {
    name: "jsonl: missing prompt",
    file: ["jobs.jsonl", `{"id":"x"}`],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "prompt"],
  },
  {
    name: "jsonl: duplicate ids",
    file: ["jobs.jsonl", jsonl({ id: "same" }, { id: "same" })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:2", "id"],
  },
  {
    name: "json: not an array or object",
    file: ["jobs.json", `"just a string"`],
    argv: ["batch", "FILE"],
    expect: ["jobs.json:1"],
  },
  {
    name: "json: syntax error",
    file: ["jobs.json", `[\n  {"prompt": "a"},\n  {"prompt": }\n]`],
    argv: ["batch", "FILE"],
    expect: ["jobs.json:3"],
  },
  {
    name: "json: bad ratio in a multi-line job",
    file: ["jobs.json", `[\n  {"prompt": "a"},\n  {\n    "prompt": "b",\n    "ratio": "7:3"\n  }\n]`],
    argv: ["batch", "FILE"],
    expect: ["jobs.json:3", "ratio"],
  },
  {
    name: "json: bad defaults",
    file: ["jobs.json", `{"defaults": {"count": "many"}, "jobs": [{"prompt": "a"}]}`],
    argv: ["batch", "FILE"],
    expect: ["jobs.json", "count"],
  },
  {
    name: "json: jobs is not an array",
    file: ["jobs.json", `{"jobs": {"prompt": "a"}}`],
    argv: ["batch", "FILE"],
    expect: ["jobs.json:1", "jobs"],
  },
  {
    name: "txt: prompt over 800 characters",
    file: ["prompts.txt", `# header\na cat\n${long}`],
    argv: ["batch", "FILE"],
    expect: ["prompts.txt:3", "prompt"],
  },
  {
    name: "unsupported file type",
    file: ["jobs.csv", "prompt\na cat"],
    argv: ["batch", "FILE"],
    expect: ["jobs.csv", ".csv"],
  },
  {
    name: "video duration the model does not offer",
    file: ["jobs.jsonl", line({ kind: "video", duration: 7, model: "jimeng_t2v_v30" })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "duration"],
  },
  {
    name: "too many images for the model",
    file: [
      "jobs.jsonl",
      line({
        kind: "compose",
        model: "jimeng_i2i_v30",
        images: ["https://example.com/a.png", "https://example.com/b.png"],
      }),
    ],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "images"],
  },
  {
    name: "an option the model does not accept",
    file: ["jobs.jsonl", line({ model: "jimeng_t2i_v40", seed: 3 })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "seed"],
  },
  {
    name: "a fake image file",
    file: ["jobs.jsonl", line({ kind: "compose", model: "jimeng_i2i_v30", images: ["fake.png"] })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "images"],
  },
  {
    name: "an oversized image file",
    file: ["jobs.jsonl", line({ kind: "compose", model: "jimeng_i2i_v30", images: ["huge.png"] })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "images"],
  },
  {
    name: "a missing image file",
    file: ["jobs.jsonl", line({ kind: "compose", model: "jimeng_i2i_v30", images: ["nowhere.png"] })],
    argv: ["batch", "FILE"],
    expect: ["jobs.jsonl:1", "images"],
  },
  {
    name: "-c 0",
    file: ["jobs.jsonl", line({})],
    argv: ["batch", "FILE", "-c", "0"],
    expect: ["--concurrency"],
  },
  {
    name: "--qps -1",
    file: ["jobs.jsonl", line({})],
    argv: ["batch", "FILE", "--qps", "-1"],
    expect: ["--qps"],
  },
];

const flagCases: Case[] = [
  {
    name: "--duration on an image model",
    argv: ["generate", "a cat", "--duration", "5"],
    expect: ["--duration"],
  },
  { name: "--ratio 7:3", argv: ["generate", "a cat", "--ratio", "7:3"], expect: ["--ratio"] },
  { name: "--count 0", argv: ["generate", "a cat", "-n", "0"], expect: ["--count"] },
  { name: "--count abc", argv: ["generate", "a cat", "-n", "abc"], expect: ["--count"] },
  { name: "--strength 2", argv: ["generate", "a cat", "--strength", "2"], expect: ["--strength"] },
  { name: "--seed x", argv: ["generate", "a cat", "-m", "jimeng-3.1", "--seed", "x"], expect: ["--seed"] },
  { name: "--size 100x", argv: ["generate", "a cat", "--size", "100x"], expect: ["--size"] },
  { name: "--timeout soon", argv: ["generate", "a cat", "--timeout", "soon"], expect: ["--timeout"] },
  { name: "an unknown model", argv: ["generate", "a cat", "-m", "nope"], expect: ["--model", "nope"] },
  { name: "video --duration 7", argv: ["video", "waves", "--duration", "7"], expect: ["--duration"] },
  {
    name: "--negative on a visual model",
    argv: ["generate", "a cat", "--negative", "dogs"],
    expect: ["--negative"],
  },
  { name: "compose without --image", argv: ["compose", "blend"], expect: ["--image"] },
  {
    name: "--image of a fake file",
    argv: ["compose", "blend", "-m", "jimeng_i2i_v30", "--image", "FAKE"],
    expect: ["--image"],
  },
  { name: "an empty prompt", argv: ["generate", ""], expect: ["prompt"] },
  { name: "a prompt over 800 characters", argv: ["generate", long], expect: ["prompt"] },
  {
    name: "--name with an unknown placeholder",
    argv: ["generate", "a cat", "--name", "{nope}"],
    expect: ["--name"],
  },
  { name: "--provider other", argv: ["--provider", "other", "generate", "a cat"], expect: ["--provider"] },
  { name: "an unknown flag", argv: ["generate", "a cat", "--colour", "red"], expect: ["--colour"] },
];

const corpus = [...fieldCases, ...fileCases, ...flagCases];

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
beforeAll(async () => {
  emulator = await startEmulator({ credentials: SECRETS, durations: { image: 5 } });
  root = tempRoot("jimeng-bad-input-");
  writeFileSync(join(root.dir, "fake.png"), "this is not an image, whatever its name says");
  const huge = proceduralPng("huge", 64, 64);
  writeFileSync(join(root.dir, "huge.png"), Buffer.concat([huge, Buffer.alloc(5 * 1024 * 1024)]));
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

describe("bad input corpus", () => {
  const results: { name: string; ok: boolean }[] = [];
  afterAll(() => {
    const passed = results.filter((r) => r.ok).length;
    summary(
      `bad-input: ${results.length} cases (${fileCases.length + fieldCases.length} batch files, ${flagCases.length} flag combinations), ` +
        `${passed} exit 2 naming the field, ${emulator.counters.requests} requests sent`,
    );
  });

  it("has at least 50 cases", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
  });

  it.each(corpus.map((c) => [c.name, c] as const))(
    "%s → exit 2, names the field, sends nothing",
    async (_name, c) => {
      let file = "";
      if (c.file) {
        file = join(root.dir, c.file[0]);
        writeFileSync(file, c.file[1]);
      }
      const argv = c.argv.map((arg) =>
        arg === "FILE" ? file : arg === "FAKE" ? join(root.dir, "fake.png") : arg,
      );
      const before = emulator.counters.requests;
      const run = await cli(argv, { emulator, configDir: join(root.dir, "config") });
      const ok = run.code === 2 && c.expect.every((token) => run.err.includes(token));
      results.push({ name: c.name, ok });
      expect(run.code, run.err).toBe(2);
      for (const token of c.expect) expect(run.err).toContain(token);
      expect(emulator.counters.requests - before).toBe(0);
    },
  );
});
