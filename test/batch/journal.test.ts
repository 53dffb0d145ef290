import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Journal, journalPath, readJournal, replay, replayJournal } from "../../src/batch/journal.js";
import { ApiError, NetworkError, RateLimitError } from "../../src/errors.js";
import type { TaskRef } from "../../src/providers/types.js";

let out: string;
beforeEach(async () => {
  out = await mkdtemp(path.join(tmpdir(), "jimeng-journal-"));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

const job = { id: "hero", hash: "h1" };
const ref: TaskRef = {
  provider: "visual",
  taskId: "7392616336519610409",
  model: "jimeng_t2i_v40",
  kind: "generate",
  submittedAt: "2026-01-01T00:00:01.000Z",
};
const fixedNow = () => new Date("2026-01-01T00:00:00.000Z");

describe("Journal", () => {
  it("appends one JSON line per transition to <out>/.jimeng/journal.jsonl", async () => {
    const journal = await Journal.open(out, { now: fixedNow });
    await journal.submitting(job);
    await journal.submitted(job, ref);
    await journal.succeeded(job, ref.taskId, [{ file: "hero-1.png", sha256: "ab", bytes: 3 }]);
    await journal.close();
    const lines = (await readFile(journalPath(out), "utf8")).trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { type: "submitting", jobId: "hero", hash: "h1", at: "2026-01-01T00:00:00.000Z" },
      {
        type: "submitted",
        jobId: "hero",
        hash: "h1",
        taskId: "7392616336519610409",
        provider: "visual",
        model: "jimeng_t2i_v40",
        kind: "generate",
        submittedAt: "2026-01-01T00:00:01.000Z",
        at: "2026-01-01T00:00:00.000Z",
      },
      {
        type: "succeeded",
        jobId: "hero",
        hash: "h1",
        taskId: "7392616336519610409",
        files: [{ file: "hero-1.png", sha256: "ab", bytes: 3 }],
        at: "2026-01-01T00:00:00.000Z",
      },
    ]);
  });

  it("keeps every record of many concurrent appends, each on its own line", async () => {
    const journal = await Journal.open(out, { sync: "none" });
    await Promise.all(
      Array.from({ length: 500 }, (_, index) => journal.submitting({ id: `j${index}`, hash: "h" })),
    );
    await journal.close();
    const { records, skippedLines } = await readJournal(journalPath(out));
    expect(skippedLines).toEqual([]);
    expect(new Set(records.map((record) => record.jobId)).size).toBe(500);
  });

  it("records a failure with the error's code, message, request id and retryability only", async () => {
    const journal = await Journal.open(out, { now: fixedNow });
    await journal.failed(
      job,
      new ApiError("bad prompt", { provider: "visual", httpStatus: 400, code: 50411, requestId: "req-1" }),
      { taskId: ref.taskId },
    );
    await journal.failed(
      job,
      new RateLimitError("slow down", { provider: "visual", httpStatus: 429, code: 50429 }),
    );
    await journal.failed(job, new NetworkError("refused", { notSent: true }));
    await journal.failed(job, { code: "expired", message: "task expired" }, { status: "expired" });
    await journal.close();
    const { records } = await readJournal(journalPath(out));
    expect(
      records.map((record) =>
        record.type === "failed" ? [record.error, record.retryable, record.status] : [],
      ),
    ).toEqual([
      [{ code: 50411, message: "bad prompt", requestId: "req-1" }, false, undefined],
      [{ code: 50429, message: "slow down" }, true, undefined],
      [{ code: "NETWORK_ERROR", message: "refused" }, true, undefined],
      [{ code: "expired", message: "task expired" }, false, "expired"],
    ]);
  });

  it("reads a journal whose last line was torn by a crash, and the next run appends on a fresh line", async () => {
    const journal = await Journal.open(out);
    await journal.submitting(job);
    await journal.close();
    await appendFile(journalPath(out), '{"type":"submitted","jobId":"hero","ha');

    const torn = await readJournal(journalPath(out));
    expect(torn.records.map((record) => record.type)).toEqual(["submitting"]);
    expect(torn.skippedLines).toEqual([2]);

    const next = await Journal.open(out);
    await next.submitted(job, ref);
    await next.close();
    const after = await readJournal(journalPath(out));
    expect(after.records.map((record) => record.type)).toEqual(["submitting", "submitted"]);
    expect(after.skippedLines).toEqual([2]);
  });

  it("skips lines that are JSON but not journal records", async () => {
    await Journal.open(out).then((journal) => journal.close());
    await writeFile(journalPath(out), '{"type":"teleported","jobId":"x"}\n[1]\n');
    expect(await readJournal(journalPath(out))).toEqual({ records: [], skippedLines: [1, 2] });
  });

  it("reads a missing journal as an empty one", async () => {
    expect(await replayJournal(path.join(out, "never-ran"))).toEqual({ state: new Map(), skippedLines: [] });
  });
});

describe("replay", () => {
  const at = "2026-01-01T00:00:00.000Z";

  it("gives each job its latest state, keeping the task of the latest submission", () => {
    const state = replay([
      { type: "submitting", jobId: "a", hash: "h", at },
      {
        type: "submitted",
        jobId: "a",
        hash: "h",
        taskId: "t1",
        provider: "session",
        model: "m",
        kind: "video",
        account: "acc1",
        at,
      },
      { type: "submitting", jobId: "b", hash: "hb", at },
      {
        type: "failed",
        jobId: "a",
        hash: "h",
        taskId: "t1",
        status: "failed",
        error: { code: 1, message: "no" },
        retryable: false,
        at,
      },
      { type: "submitting", jobId: "a", hash: "h", at },
      {
        type: "submitted",
        jobId: "a",
        hash: "h",
        taskId: "t2",
        provider: "session",
        model: "m",
        kind: "video",
        at,
      },
      {
        type: "succeeded",
        jobId: "a",
        hash: "h",
        taskId: "t2",
        files: [{ file: "a.mp4", sha256: "s", bytes: 9 }],
        at,
      },
    ]);
    expect(state.get("a")).toEqual({
      jobId: "a",
      status: "succeeded",
      hash: "h",
      ref: { provider: "session", taskId: "t2", model: "m", kind: "video", submittedAt: at },
      files: [{ file: "a.mp4", sha256: "s", bytes: 9 }],
      submissions: 2,
      at,
    });
    expect(state.get("b")).toEqual({ jobId: "b", status: "submitting", hash: "hb", submissions: 1, at });
  });

  it("forgets the previous task once a new submission starts", () => {
    const state = replay([
      {
        type: "submitted",
        jobId: "a",
        hash: "h",
        taskId: "t1",
        provider: "visual",
        model: "m",
        kind: "generate",
        account: "x",
        at,
      },
      { type: "submitting", jobId: "a", hash: "h2", at },
    ]);
    expect(state.get("a")?.ref).toBeUndefined();
    expect(state.get("a")?.hash).toBe("h2");
  });

  it("keeps the session account of a submitted task, so a resumed run polls with the same account", () => {
    const state = replay([
      {
        type: "submitted",
        jobId: "a",
        hash: "h",
        taskId: "t1",
        provider: "session",
        model: "m",
        kind: "generate",
        account: "acc9",
        at,
      },
    ]);
    expect(state.get("a")?.ref?.account).toBe("acc9");
  });
});
