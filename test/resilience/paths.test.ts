/**
 * Hostile prompts, job ids and `--name` templates — `../`, absolute paths, NUL and control characters,
 * reserved device names, 10 000 characters — never write outside the output folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { cli, filesBelow, LONG, SECRETS, summary, tempRoot } from "./helpers.js";

const hostile = [
  "../../escape",
  "../../../../../../tmp/jimeng-escape",
  "/tmp/jimeng-absolute",
  "C:\\Windows\\System32\\evil",
  "a\u0000b",
  "\u001b[31mred\u0007bell\r\nnewline",
  "CON",
  "nul.txt",
  "COM1",
  "..",
  ".",
  "~/home",
  "x".repeat(10_000),
  "名前/../../逃げる",
];

const templates = [
  "../../{slug}-{index}",
  "/tmp/jimeng-abs-{index}",
  "{slug}/../../{index}",
  "..",
  "{id}{task}/../{index}",
  `${"y".repeat(10_000)}-{index}`,
  "CON",
  "a\u0000b-{index}",
];

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
beforeAll(async () => {
  emulator = await startEmulator({ credentials: SECRETS, durations: { image: 5 } });
  root = tempRoot("jimeng-paths-");
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

describe("paths", () => {
  let attempts = 0;
  let written = 0;
  const escaped: string[] = [];
  afterAll(() => {
    summary(
      `paths: ${attempts} hostile prompts, ids and --name templates, ${written} files written, ${escaped.length} outside the output folder`,
    );
  });

  /** Runs in its own sandbox; every file it leaves must be inside `sandbox/out`. */
  async function sandboxed(name: string, argv: (out: string, sandbox: string) => string[]) {
    attempts++;
    const sandbox = join(root.dir, `case-${attempts}`);
    mkdirSync(sandbox);
    const out = join(sandbox, "out");
    const run = await cli(argv(out, sandbox), { emulator, configDir: join(sandbox, "config") });
    for (const file of filesBelow(root.dir)) {
      const inside = relative(join(root.dir, `case-${attempts}`), join(root.dir, file));
      if (inside.startsWith("..")) continue; // another case's sandbox
      if (inside.startsWith(`out${sep}`)) written++;
      else if (!inside.startsWith(`config${sep}`) && inside !== "jobs.jsonl")
        escaped.push(`${name}: ${inside}`);
    }
    expect(escaped).toEqual([]);
    return run;
  }

  it.each(hostile.map((text) => [JSON.stringify(text).slice(0, 40), text] as const))(
    "prompt %s",
    async (_label, text) => {
      const prompt = text.length > 800 ? text.slice(0, 800) : text.trim() ? text : `x${text}`;
      const run = await sandboxed(`prompt ${_label}`, (out) => ["generate", prompt, "-n", "1", "-o", out]);
      expect([0, 2]).toContain(run.code);
    },
  );

  it.each(templates.map((template) => [JSON.stringify(template).slice(0, 40), template] as const))(
    "--name %s",
    async (_label, template) => {
      const run = await sandboxed(`--name ${_label}`, (out) => [
        "generate",
        "a cat",
        "-n",
        "1",
        "-o",
        out,
        "--name",
        template,
      ]);
      expect([0, 2]).toContain(run.code);
    },
  );

  it("batch job ids and names", { timeout: LONG ? 60_000 : 30_000 }, async () => {
    const jobs = hostile
      .filter((text) => text.length < 100)
      .map((text, index) =>
        JSON.stringify({
          id: `job-${index}`,
          prompt: `p${index} ${text}`.slice(0, 800),
          name: `${text}-{index}`,
          count: 1,
        }),
      );
    jobs.push(JSON.stringify({ id: "CON", prompt: "reserved id", count: 1 }));
    jobs.push(JSON.stringify({ id: "..", prompt: "dot dot id", count: 1 }));
    const run = await sandboxed("batch", (out, sandbox) => {
      writeFileSync(join(sandbox, "jobs.jsonl"), jobs.join("\n"));
      return ["batch", join(sandbox, "jobs.jsonl"), "-o", out];
    });
    expect([0, 1, 2]).toContain(run.code);
  });
});
