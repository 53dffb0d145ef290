import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchValidationError, loadBatch, validateBatch, validateJobs } from "../../src/batch/files.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "jimeng-batch-files-"));
  await writeFile(path.join(dir, "ref.png"), "not really a png");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function batchFile(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("validateBatch: formats", () => {
  it("reads a .jsonl file, one job a line, skipping blank lines and keeping each job's line", async () => {
    const file = await batchFile(
      "a.jsonl",
      '{"id":"a","prompt":"one","ratio":"16:9"}\n\n{"prompt":"two","count":2}\r\n',
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(true);
    expect(result.jobs.map((job) => [job.id, job.source.line, job.prompt])).toEqual([
      ["a", 1, "one"],
      ["line-3", 3, "two"],
    ]);
    expect(result.jobs[0]).toMatchObject({ kind: "generate", ratio: "16:9", source: { file } });
    expect(result.jobs[1]?.count).toBe(2);
  });

  it("reads a .txt file, one prompt a line, skipping blank lines and # comments", async () => {
    const file = await batchFile(
      "p.txt",
      "\uFEFF# header\nfirst prompt\n\n   # indented comment\n  second prompt  \n",
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(true);
    expect(result.jobs.map((job) => [job.id, job.prompt])).toEqual([
      ["line-2", "first prompt"],
      ["line-5", "second prompt"],
    ]);
  });

  it("reads a .json array of jobs, each job at the line where its object starts", async () => {
    const file = await batchFile(
      "arr.json",
      [
        "[",
        '  { "id": "a", "prompt": "one" },',
        "  {",
        '    "id": "b",',
        '    "prompt": "two"',
        "  },",
        "  {",
        '"prompt": "three"}',
        "]",
      ].join("\n"),
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(true);
    expect(result.jobs.map((job) => [job.id, job.source.line])).toEqual([
      ["a", 2],
      ["b", 3],
      ["line-7", 7],
    ]);
  });

  it("merges a .json file's defaults under each job, the job's own fields winning", async () => {
    const file = await batchFile(
      "defaults.json",
      JSON.stringify(
        {
          defaults: { ratio: "4:3", count: 2, model: "m1" },
          jobs: [
            { id: "a", prompt: "one" },
            { id: "b", prompt: "two", ratio: "16:9", count: 1 },
          ],
        },
        null,
        2,
      ),
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(true);
    expect(result.jobs.map((job) => [job.id, job.ratio, job.count, job.model])).toEqual([
      ["a", "4:3", 2, "m1"],
      ["b", "16:9", 1, "m1"],
    ]);
  });

  it("applies caller defaults (e.g. CLI flags) under the file's defaults", async () => {
    const file = await batchFile("flags.txt", "a prompt\n");
    const result = await validateBatch(file, { defaults: { model: "from-flag", ratio: "1:1" } });
    expect(result.jobs[0]).toMatchObject({ model: "from-flag", ratio: "1:1" });
  });

  it("resolves relative image paths against the batch file's folder and keeps URLs", async () => {
    const file = await batchFile(
      "img.jsonl",
      JSON.stringify({ prompt: "p", kind: "compose", images: ["ref.png", "https://example.com/x.png"] }),
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(true);
    expect(result.jobs[0]?.images).toEqual([path.join(dir, "ref.png"), "https://example.com/x.png"]);
  });

  it("rejects an unsupported extension and a missing file without throwing", async () => {
    const csv = await validateBatch(path.join(dir, "jobs.csv"));
    expect(csv.messages).toEqual([
      `${path.join(dir, "jobs.csv")}: unsupported batch file type ".csv"; use .jsonl, .json or .txt`,
    ]);
    const missing = await validateBatch(path.join(dir, "nope.jsonl"));
    expect(missing.ok).toBe(false);
    expect(missing.messages[0]).toContain("file not found");
  });

  it("reports a file without any job", async () => {
    const file = await batchFile("empty.txt", "# only a comment\n\n");
    expect((await validateBatch(file)).messages).toEqual([`${file}: no jobs found`]);
  });
});

describe("validateBatch: problems", () => {
  it("lists every problem of the file at once as file:line: field: message, in line order", async () => {
    const file = await batchFile(
      "bad.jsonl",
      [
        '{"id":"ok","prompt":"fine"}',
        '{"id":"x","prompt":"   "}',
        '{"id":"y","prompt":"p","ratio":"wide","count":0}',
        '{"id":"z","prompt":"p","promt":"typo"}',
        "{not json",
        `{"id":"long","prompt":"${"a".repeat(801)}"}`,
        '{"id":"imgs","prompt":"p","images":["missing.png"]}',
      ].join("\n"),
    );
    const result = await validateBatch(file);
    expect(result.ok).toBe(false);
    expect(result.messages).toEqual([
      `${file}:2: prompt: must not be empty`,
      `${file}:3: count: Too small: expected number to be >=1`,
      `${file}:3: ratio: must look like 16:9`,
      `${file}:4: promt: unknown field; did you mean "prompt"?`,
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}:5: invalid JSON: `)),
      `${file}:6: prompt: is 801 characters long; at most 800 are allowed`,
      `${file}:7: images.0: no such image file: missing.png`,
    ]);
    expect(result.jobs.map((job) => job.id)).toEqual(["ok"]);
    expect(result.issues[0]).toEqual({
      file,
      line: 2,
      jobId: "x",
      path: "prompt",
      message: "must not be empty",
    });
  });

  it("accepts a prompt of exactly 800 characters", async () => {
    const file = await batchFile("max.jsonl", JSON.stringify({ prompt: "字".repeat(800) }));
    expect((await validateBatch(file)).ok).toBe(true);
  });

  it("reports a duplicate id at both lines, including ids derived from line numbers", async () => {
    const file = await batchFile(
      "dup.jsonl",
      [
        '{"id":"a","prompt":"1"}',
        '{"id":"line-3","prompt":"2"}',
        '{"prompt":"3"}',
        '{"id":"a","prompt":"4"}',
      ].join("\n"),
    );
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:1: id: duplicate id "a" (also on line 4)`,
      `${file}:2: id: duplicate id "line-3" (also on line 3)`,
      `${file}:3: id: duplicate id "line-3" (also on line 2)`,
      `${file}:4: id: duplicate id "a" (also on line 1)`,
    ]);
  });

  it("reports the line and column of a syntax error in a .json file", async () => {
    const file = await batchFile("broken.json", '[\n  {"prompt": "a"},\n  {"prompt": "b" "ratio": "1:1"}\n]');
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:3: invalid JSON: unexpected "\\""; expected "," or "}" after a property value (column 18)`,
    ]);
  });

  it("reports problems in multi-line .json jobs at the line where each job starts", async () => {
    const file = await batchFile(
      "multi.json",
      [
        "{",
        '  "jobs": [',
        "    {",
        '      "id": "a",',
        '      "prompt": "",',
        '      "seed": "x"',
        "    }",
        "  ]",
        "}",
      ].join("\n"),
    );
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:3: prompt: must not be empty`,
      `${file}:3: seed: Invalid input: expected number, received string`,
    ]);
  });

  it("reports a bad default once, at the defaults, not at every job inheriting it", async () => {
    const file = await batchFile(
      "bad-defaults.json",
      [
        "{",
        '  "defaults": { "ratio": "wide", "colour": "red", "id": "x" },',
        '  "jobs": [',
        '    { "prompt": "a" },',
        '    { "prompt": "b", "ratio": "bad" }',
        "  ],",
        '  "job": 1',
        "}",
      ].join("\n"),
    );
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:2: defaults.colour: unknown field (known fields: kind, prompt, model, images, count, ratio, resolution, size, seed, negative, strength, duration, name, provider)`,
      `${file}:2: defaults.id: a default cannot set an id; ids are per job`,
      `${file}:2: defaults.ratio: must look like 16:9`,
      `${file}:5: ratio: must look like 16:9`,
      `${file}:7: job: unknown field; did you mean "jobs"?`,
    ]);
  });

  it("rejects a .json document that is neither an array nor { defaults, jobs }", async () => {
    const file = await batchFile("scalar.json", '"just a string"');
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:1: expected an array of jobs or { "defaults": {...}, "jobs": [...] }`,
    ]);
  });

  it("rejects a job that is not an object", async () => {
    const file = await batchFile("array-line.jsonl", '["prompt"]\n');
    expect((await validateBatch(file)).messages).toEqual([
      `${file}:1: a job must be a JSON object, not an array`,
    ]);
  });

  it("adds the issues of the validateJob hook at the job's line", async () => {
    const file = await batchFile(
      "hook.jsonl",
      '{"id":"v","kind":"video","prompt":"p","duration":99}\n{"prompt":"ok"}',
    );
    const result = await validateBatch(file, {
      validateJob: (job) =>
        job.duration !== undefined && job.duration > 10
          ? [{ path: "duration", message: "at most 10 s" }]
          : [],
    });
    expect(result.messages).toEqual([`${file}:1: duration: at most 10 s`]);
    expect(result.jobs.map((job) => job.id)).toEqual(["line-2"]);
  });
});

describe("loadBatch", () => {
  it("throws a BatchValidationError listing every problem, one a line", async () => {
    const file = await batchFile("throw.jsonl", '{"prompt":""}\n{"prompt":"p","sead":1}');
    const error = await loadBatch(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BatchValidationError);
    const batchError = error as BatchValidationError;
    expect(batchError.batchIssues).toHaveLength(2);
    expect(batchError.message.split("\n").slice(1)).toEqual([
      `${file}:1: prompt: must not be empty`,
      `${file}:2: sead: unknown field; did you mean "seed"?`,
    ]);
    expect(batchError.issues[1]).toEqual({
      path: `${file}:2: sead`,
      message: 'unknown field; did you mean "seed"?',
    });
  });

  it("returns the jobs of a valid file", async () => {
    const file = await batchFile("fine.txt", "a\nb\n");
    expect((await loadBatch(file)).map((job) => job.prompt)).toEqual(["a", "b"]);
  });
});

describe("validateJobs", () => {
  it("validates jobs given in code, numbering them from 1", async () => {
    const result = await validateJobs([{ id: "a", prompt: "x" }, { prompt: "" }], { file: "sdk" });
    expect(result.messages).toEqual(["sdk:2: prompt: must not be empty"]);
    expect(result.jobs.map((job) => job.id)).toEqual(["a"]);
  });
});

describe("large files", () => {
  it("streams a 100 000-line .jsonl file into validated jobs", async () => {
    const lines: string[] = [];
    for (let index = 0; index < 100_000; index++) {
      lines.push(JSON.stringify({ id: `job-${index}`, prompt: `prompt number ${index}`, seed: index }));
    }
    const file = await batchFile("huge.jsonl", `${lines.join("\n")}\n`);
    lines.length = 0;
    const before = process.memoryUsage().heapUsed;
    const result = await validateBatch(file);
    const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    expect(result.ok).toBe(true);
    expect(result.jobs).toHaveLength(100_000);
    expect(result.jobs[99_999]).toMatchObject({ id: "job-99999", seed: 99_999, source: { line: 100_000 } });
    expect(grownMb).toBeLessThan(300);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
