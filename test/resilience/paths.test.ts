/**
 * Hostile prompts, job ids and `--name` templates — `../`, absolute paths, NUL and control characters,
 * reserved device names, 10 000 characters — never write outside the output folder. The built bin runs as a
 * process of its own, from a working directory deep inside its sandbox, so a name resolved against the
 * working directory instead of the output folder shows up too. Absolute and `../` targets point at a
 * `victim` folder the check watches (and at a few names under the temp folder, checked by name).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import {
  binEnv,
  filesBelow,
  isInside,
  LONG,
  mapPool,
  SECRETS,
  type SpawnedRun,
  spawnCli,
  summary,
  tempRoot,
} from "./helpers.js";

/** A name under the system temp folder that nothing else uses; it must never appear. */
const TMP_MARK = `jimeng-escape-${process.pid}`;

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
let victim: string;

/** Texts that try to leave the output folder; `{victim}` stands for the watched folder's absolute path. */
function hostileTexts(): string[] {
  return [
    "../../../victim/escape",
    "../../../../../victim/escape-from-cwd",
    "../../../../../../../../../../tmp/TMP_MARK-relative",
    `${victim}/absolute`,
    `${tmpdir()}/TMP_MARK-absolute`,
    "..\\..\\..\\victim\\backslashes",
    "C:\\Windows\\System32\\evil",
    "a\u0000b/../../../victim/nul",
    "\u001b[31mred\u0007bell\r\nnew\tline",
    "CON",
    "nul.txt",
    "COM1",
    "LPT9.tar.gz",
    "..",
    ".",
    "~/home",
    "-rf",
    "x".repeat(10_000),
    `${"../".repeat(3_000)}victim/deep`,
    "名前/../../../victim/逃げる",
  ].map((text) => text.replace("TMP_MARK", TMP_MARK));
}

beforeAll(async () => {
  emulator = await startEmulator({ credentials: SECRETS, durations: { image: 5 } });
  root = tempRoot("jimeng-paths-");
  victim = join(root.dir, "victim");
  mkdirSync(victim);
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

interface Outcome {
  name: string;
  run: SpawnedRun;
  /** Files written inside the case's output folder. */
  written: number;
  /** Files written anywhere else (relative to the sandbox root, or absolute). */
  escaped: string[];
}

let cases = 0;
const outcomes: Outcome[] = [];

/** Runs one CLI call in a sandbox of its own; counts what it wrote inside and outside `out`. */
async function sandboxed(
  name: string,
  argv: (paths: { out: string; sandbox: string }) => string[],
): Promise<Outcome> {
  cases++;
  const sandbox = join(root.dir, `case-${cases}`);
  const out = join(sandbox, "out");
  const cwd = join(sandbox, "work", "deep", "er");
  mkdirSync(cwd, { recursive: true });
  const args = argv({ out, sandbox });
  const run = await spawnCli(args, { env: binEnv(emulator, join(sandbox, "config")), cwd });
  const outcome: Outcome = { name, run, ...classify(sandbox, out) };
  outcomes.push(outcome);
  return outcome;
}

/** Files in `sandbox` inside `out`, and the others (the config folder and the batch file are the test's). */
function classify(sandbox: string, out: string): { written: number; escaped: string[] } {
  const result = { written: 0, escaped: [] as string[] };
  for (const file of filesBelow(sandbox)) {
    const full = join(sandbox, file);
    if (isInside(out, full)) result.written++;
    else if (!file.startsWith(`config${sep}`) && file !== "jobs.jsonl") result.escaped.push(full);
  }
  return result;
}

/** Everything outside the sandboxes that a case could have reached: the victim folder and the temp marks. */
function strayFiles(): string[] {
  const stray = filesBelow(victim).map((file) => join(victim, file));
  for (const dir of [tmpdir(), root.dir, join(root.dir, "..")]) {
    for (const entry of readdirSync(dir)) if (entry.includes(TMP_MARK)) stray.push(join(dir, entry));
  }
  return stray;
}

function label(text: string): string {
  return JSON.stringify(text).slice(0, 40);
}

describe("paths", () => {
  afterAll(() => {
    const written = outcomes.reduce((sum, o) => sum + o.written, 0);
    const escaped = outcomes.reduce((sum, o) => sum + o.escaped.length, 0) + strayFiles().length;
    summary(
      `paths: ${cases} runs with hostile prompts, ids and --name templates (${outcomes.filter((o) => o.run.code === 0).length} exit 0, ` +
        `${outcomes.filter((o) => o.run.code === 2).length} exit 2), ${written} files written, ${escaped} outside the output folder`,
    );
  });

  it("hostile prompts and --name templates on `generate` write only inside -o", {
    timeout: 180_000,
  }, async () => {
    // NUL cannot travel in argv; the batch test below carries it through a file.
    const texts = hostileTexts().filter((text) => !text.includes("\u0000"));
    type Run = [string, (p: { out: string }) => string[]];
    const forms = (text: string): Run[] => [
      [`prompt ${label(text)}`, ({ out }) => ["generate", text.slice(0, 800), "-n", "1", "-o", out]],
      [`--name ${label(text)}`, ({ out }) => ["generate", "a cat", "-n", "1", "-o", out, "--name", text]],
      [
        `session: --name and prompt ${label(text)}`,
        ({ out }) => [
          "--provider",
          "session",
          "generate",
          text.slice(0, 800),
          "-n",
          "1",
          "-o",
          out,
          "--name",
          `${text}-{slug}-{id}-{index}`,
        ],
      ],
    ];
    // Quick mode: each text in one of the three forms, in turn; long mode: every text in every form.
    const runs = texts.flatMap((text, index) => {
      const all = forms(text);
      return LONG ? all : [all[index % all.length] as Run];
    });
    const results = await mapPool(runs, LONG ? 2 : 3, ([name, argv]) => sandboxed(name, argv));

    const unexpected = results
      .filter((o) => !(o.run.code === 0 ? o.written > 0 : o.run.code === 2 && o.written === 0))
      .map((o) => `${o.name}: exit ${o.run.code}, ${o.written} files: ${o.run.err.slice(0, 300)}`);
    expect(results.flatMap((o) => o.escaped.map((file) => `${o.name}: ${file}`))).toEqual([]);
    expect(strayFiles()).toEqual([]);
    expect(unexpected).toEqual([]);
  });

  it("hostile job ids, prompts and names in a batch file write only inside -o", {
    timeout: 180_000,
  }, async () => {
    const texts = hostileTexts();
    const jobs = texts.flatMap((text, index) => [
      { id: `prompt-${index}`, prompt: `p${index} ${text}`.slice(0, 800), count: 1 },
      { id: `name-${index}`, prompt: `n${index}`, name: `${text}-{index}`, count: 1 },
      { id: `slug-${index}`, prompt: `s${index} ${text}`.slice(0, 800), name: "{slug}/../{id}", count: 1 },
    ]);
    // Ids the schema accepts that are still dangerous as file names (the default batch name is `{id}-{index}`).
    const hostileIds = ["CON", "nul.txt", "..", ".", "~", " -rf ", "C:evil", "名前..", "x".repeat(128)];
    hostileIds.forEach((id, index) => {
      jobs.push({ id, prompt: `hostile id ${index}`, count: 1 });
    });
    const outcome = await sandboxed("batch", ({ sandbox, out }) => {
      writeFileSync(join(sandbox, "jobs.jsonl"), jobs.map((job) => JSON.stringify(job)).join("\n"));
      return ["batch", join(sandbox, "jobs.jsonl"), "-o", out, "-c", "8"];
    });

    expect(outcome.escaped).toEqual([]);
    expect(strayFiles()).toEqual([]);
    expect(outcome.run.code, outcome.run.err.slice(-2000)).toBe(0);
    // One image per job, plus the journal, the report and its entries as the run wrote them.
    expect(outcome.written).toBe(jobs.length + 3);
  });

  it("ids with separators or control characters are refused before anything is written", {
    timeout: 30_000,
  }, async () => {
    const refused = ["../../../victim/id", `${"../".repeat(3)}x`, "a/b", "a\\b", "a\u0000b", "tab\there"];
    const before = emulator.counters.requests;
    const results = await mapPool(refused, 3, (id) =>
      sandboxed(`id ${label(id)}`, ({ sandbox, out }) => {
        writeFileSync(join(sandbox, "jobs.jsonl"), JSON.stringify({ id, prompt: "a cat" }));
        return ["batch", join(sandbox, "jobs.jsonl"), "-o", out];
      }),
    );

    expect(results.map((o) => `${o.name}: exit ${o.run.code}`)).toEqual(
      refused.map((id) => `id ${label(id)}: exit 2`),
    );
    for (const o of results) expect(o.run.err).toContain("jobs.jsonl:1: id");
    expect(results.reduce((sum, o) => sum + o.written + o.escaped.length, 0)).toBe(0);
    expect(emulator.counters.requests - before).toBe(0);
    expect(existsSync(join(victim, "id"))).toBe(false);
  });

  it("the checks notice a file written outside the output folder", () => {
    // Guards the guard: a check that cannot fail proves nothing.
    const sandbox = join(root.dir, "control");
    mkdirSync(join(sandbox, "out"), { recursive: true });
    mkdirSync(join(sandbox, "work"));
    writeFileSync(join(sandbox, "out", "fine.png"), "x");
    writeFileSync(join(sandbox, "work", "stray.png"), "x");
    writeFileSync(join(victim, "stray.png"), "x");
    try {
      expect(classify(sandbox, join(sandbox, "out"))).toEqual({
        written: 1,
        escaped: [join(sandbox, "work", "stray.png")],
      });
      expect(strayFiles()).toEqual([join(victim, "stray.png")]);
    } finally {
      rmSync(sandbox, { recursive: true });
      rmSync(join(victim, "stray.png"));
    }
  });
});
