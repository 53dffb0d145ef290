import { describe, expect, it } from "vitest";
import { replay } from "../../src/batch/journal.js";
import { buildReport } from "../../src/batch/report.js";

const at = "2026-01-01T00:00:05.000Z";

describe("buildReport", () => {
  it("reports each job's status, task id, files and error, with totals", () => {
    const state = replay([
      {
        type: "submitted",
        jobId: "ok",
        hash: "h",
        taskId: "t1",
        provider: "visual",
        model: "m",
        kind: "generate",
        at,
      },
      {
        type: "succeeded",
        jobId: "ok",
        hash: "h",
        taskId: "t1",
        files: [{ file: "ok-1.png", sha256: "aa", bytes: 10 }],
        at,
      },
      {
        type: "submitted",
        jobId: "bad",
        hash: "h",
        taskId: "t2",
        provider: "visual",
        model: "m",
        kind: "generate",
        at,
      },
      {
        type: "failed",
        jobId: "bad",
        hash: "h",
        taskId: "t2",
        status: "expired",
        error: { code: "EXPIRED", message: "expired", requestId: "r" },
        retryable: false,
        at,
      },
      {
        type: "failed",
        jobId: "rejected",
        hash: "h",
        error: { code: 50411, message: "prompt rejected" },
        retryable: false,
        at,
      },
      {
        type: "submitted",
        jobId: "running",
        hash: "h",
        taskId: "t3",
        provider: "visual",
        model: "m",
        kind: "generate",
        at,
      },
    ]);
    const report = buildReport({
      jobs: ["ok", "bad", "rejected", "running", "never"].map((id) => ({ id, hash: "h" })),
      state,
      startedAt: new Date("2026-01-01T00:00:00.000Z"),
      finishedAt: "2026-01-01T00:01:00.000Z",
      interrupted: true,
    });
    expect(report).toEqual({
      total: 5,
      succeeded: 1,
      failed: 2,
      interrupted: true,
      jobs: [
        {
          id: "ok",
          status: "succeeded",
          taskId: "t1",
          files: [{ file: "ok-1.png", sha256: "aa", bytes: 10 }],
        },
        {
          id: "bad",
          status: "expired",
          taskId: "t2",
          files: [],
          error: { code: "EXPIRED", message: "expired", requestId: "r" },
        },
        {
          id: "rejected",
          status: "failed",
          taskId: null,
          files: [],
          error: { code: 50411, message: "prompt rejected" },
        },
        { id: "running", status: "running", taskId: "t3", files: [] },
        { id: "never", status: "queued", taskId: null, files: [] },
      ],
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:01:00.000Z",
    });
  });

  it("does not count a journal entry recorded for an older version of the job", () => {
    const state = replay([{ type: "succeeded", jobId: "a", hash: "old", files: [], at }]);
    const report = buildReport({ jobs: [{ id: "a", hash: "new" }], state, startedAt: at, finishedAt: at });
    expect(report.succeeded).toBe(0);
    expect(report.jobs[0]?.status).toBe("queued");
  });
});
