import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BatchJob } from "../../src/batch/job.js";
import { batchFileJobs } from "../../src/batch/job-source.js";
import { Journal, journalPath, readJournal } from "../../src/batch/journal.js";
import { HttpTransport } from "../../src/http/transport.js";
import { type Bench, checkFiles, job, setUp } from "./runner-helpers.js";

let bench: Bench | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await bench?.cleanup();
  bench = undefined;
});

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const chunk of chunks) text += chunk;
  return text;
}

/** A source that reads `jobs` afresh on each call and counts how many it handed out at most ahead of `done`. */
function streamed(jobs: readonly BatchJob[]) {
  const reads = { count: 0 };
  const source = async function* () {
    reads.count++;
    for (const item of jobs) yield item;
  };
  return { source, reads };
}

describe("runBatch over a streamed source", () => {
  it("runs every job, writes report.json in job order and keeps no entry in memory", async () => {
    bench = await setUp();
    const jobs = Array.from({ length: 30 }, (_, index) =>
      job({ id: `j${index}`, prompt: index % 7 === 3 ? `fails ${index} [fail:50511]` : `works ${index}` }),
    );
    const { source, reads } = streamed(jobs);
    let total = -1;
    const result = await bench.run([], {
      jobs: source,
      concurrency: 5,
      onEvent: (event) => {
        if (event.type === "plan") total = event.total;
      },
    });

    expect(total).toBe(30);
    expect(reads.count).toBe(2); // a fresh run reads once to plan, once to run
    expect(result.report).toMatchObject({ total: 30, succeeded: 26, failed: 4, jobs: [] });
    expect(result.plan.jobs).toEqual([]);
    expect(result.plan.counts).toEqual({ submit: 30, poll: 0, skip: 0 });
    const written = JSON.parse(await readFile(path.join(bench.out, "report.json"), "utf8"));
    expect(written.jobs.map((entry: { id: string }) => entry.id)).toEqual(jobs.map((item) => item.id));
    expect(written).toMatchObject({ total: 30, succeeded: 26, failed: 4 });
    expect(await checkFiles(bench, { ...result, report: written })).toBeGreaterThanOrEqual(26);
    // The streamed text is the file's, in any indentation.
    expect(`${await collect(result.reportText(2))}\n`).toBe(await readFile(result.reportFile ?? "", "utf8"));
    expect(JSON.parse(await collect(result.reportText()))).toEqual(written);
  });

  it("resumes from the journal reading the file again: polls recorded tasks, skips the done, pays nothing twice", async () => {
    bench = await setUp();
    const jobs = Array.from({ length: 8 }, (_, index) => job({ id: `r${index}`, prompt: `resume ${index}` }));
    const controller = new AbortController();
    let submitted = 0;
    const first = await bench.run(jobs, {
      concurrency: 4,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "submitted" && ++submitted === 5) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    const tasksBefore = bench.emulator.tasks().length;

    const { source, reads } = streamed(jobs);
    const second = await bench.run([], { jobs: source, resume: true, concurrency: 4 });
    expect(reads.count).toBe(4); // claim, take over, plan, run
    expect(second.report).toMatchObject({ total: 8, succeeded: 8, failed: 0 });
    expect(bench.emulator.tasks().length).toBe(tasksBefore + (8 - submitted));
    const written = JSON.parse(await readFile(path.join(bench.out, "report.json"), "utf8"));
    expect(written.jobs.map((entry: { status: string }) => entry.status)).toEqual(Array(8).fill("succeeded"));
  });

  it("reads a validated batch file as a stream, with the file's defaults", async () => {
    bench = await setUp();
    const file = path.join(bench.out, "..", `${path.basename(bench.out)}-jobs.jsonl`);
    await writeFile(file, ['{"id":"a","prompt":"first"}', '{"prompt":"second","count":2}', ""].join("\n"));
    const result = await bench.run([], { jobs: batchFileJobs(file, { defaults: { count: 1 } }) });
    const written = JSON.parse(await readFile(path.join(bench.out, "report.json"), "utf8"));
    expect(
      written.jobs.map((entry: { id: string; files: unknown[] }) => [entry.id, entry.files.length]),
    ).toEqual([
      ["a", 1],
      ["line-2", 2],
    ]);
    expect(result.report.succeeded).toBe(2);
  });

  it("holds only a few jobs per slot: the source is read as jobs finish, not all at once", async () => {
    bench = await setUp();
    const jobs = Array.from({ length: 60 }, (_, index) => job({ prompt: `ahead ${index}` }));
    let pass = 0;
    let ended = 0;
    let mostAhead = 0;
    const source = async function* () {
      pass++;
      let read = 0;
      for (const item of jobs) {
        if (pass === 2) mostAhead = Math.max(mostAhead, read - ended);
        read++;
        yield item;
      }
    };
    await bench.run([], {
      jobs: source,
      concurrency: 2,
      onEvent: (event) => {
        if (event.type === "end") ended++;
      },
    });
    expect(ended).toBe(60);
    // Jobs read but not ended: the slots, a few queued for them, never the file.
    expect(mostAhead).toBeGreaterThanOrEqual(2);
    expect(mostAhead).toBeLessThanOrEqual(2 * 2 + 8);
  });
});

describe("runBatch closes what it opened on every path", () => {
  it("closes the journal and the transport, and releases the folder, when the run throws mid-way", async () => {
    bench = await setUp();
    const journalClose = vi.spyOn(Journal.prototype, "close");
    const transportClose = vi.spyOn(HttpTransport.prototype, "close");
    let starts = 0;
    const jobs = Array.from({ length: 6 }, (_, index) => job({ id: `c${index}`, prompt: `crash ${index}` }));
    await expect(
      bench.run(jobs, {
        concurrency: 1,
        onEvent: (event) => {
          if (event.type === "start" && ++starts === 3) throw new Error("display crashed");
        },
      }),
    ).rejects.toThrow("display crashed");

    expect(journalClose).toHaveBeenCalledTimes(1);
    expect(transportClose).toHaveBeenCalled();
    // What happened before the crash is in the journal, and the folder is free for a resume.
    const { records } = await readJournal(journalPath(bench.out));
    expect(records.filter((record) => record.type === "succeeded").map((record) => record.jobId)).toEqual([
      "c0",
      "c1",
    ]);
    const resumed = await bench.run(jobs, { resume: true });
    expect(resumed.report).toMatchObject({ total: 6, succeeded: 6 });
    expect(bench.emulator.tasks()).toHaveLength(6);
  });
});
