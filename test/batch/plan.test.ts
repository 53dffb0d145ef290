import { describe, expect, it } from "vitest";
import type { BatchJob } from "../../src/batch/job.js";
import { type JournalRecord, replay } from "../../src/batch/journal.js";
import { planResume } from "../../src/batch/plan.js";

const at = "2026-01-01T00:00:00.000Z";
const job = (id: string, hash = `hash-${id}`): BatchJob => ({
  id,
  hash,
  kind: "generate",
  prompt: `prompt ${id}`,
  source: { file: "jobs.jsonl", line: 1 },
});
const submitting = (jobId: string, hash = `hash-${jobId}`): JournalRecord => ({
  type: "submitting",
  jobId,
  hash,
  at,
});
const submitted = (jobId: string, taskId: string, hash = `hash-${jobId}`): JournalRecord => ({
  type: "submitted",
  jobId,
  hash,
  taskId,
  provider: "visual",
  model: "m",
  kind: "generate",
  at,
});
const succeeded = (jobId: string, hash = `hash-${jobId}`): JournalRecord => ({
  type: "succeeded",
  jobId,
  hash,
  files: [{ file: `${jobId}.png`, sha256: "s", bytes: 1 }],
  at,
});
const failed = (jobId: string): JournalRecord => ({
  type: "failed",
  jobId,
  hash: `hash-${jobId}`,
  error: { code: 50411, message: "rejected" },
  retryable: false,
  at,
});

const decisions = (plan: ReturnType<typeof planResume>) =>
  plan.jobs.map((planned) => [planned.job.id, planned.action, planned.reason]);

describe("planResume", () => {
  it("submits a job the journal does not know", () => {
    expect(decisions(planResume([job("a")], replay([])))).toEqual([["a", "submit", "new"]]);
  });

  it("skips a job that succeeded and did not change", () => {
    const state = replay([submitting("a"), submitted("a", "t1"), succeeded("a")]);
    expect(decisions(planResume([job("a")], state))).toEqual([["a", "skip", "succeeded"]]);
  });

  it("polls a submitted job's task instead of submitting it again", () => {
    const plan = planResume([job("a")], replay([submitting("a"), submitted("a", "t1")]));
    expect(decisions(plan)).toEqual([["a", "poll", "submitted"]]);
    expect(plan.jobs[0]?.ref?.taskId).toBe("t1");
  });

  it("submits a job whose content changed since it was journaled, whatever its state", () => {
    const state = replay([succeeded("a", "old"), submitted("b", "t2", "old")]);
    expect(decisions(planResume([job("a"), job("b")], state))).toEqual([
      ["a", "submit", "changed"],
      ["b", "submit", "changed"],
    ]);
  });

  it("resubmits a job whose submit was started but never confirmed, and reports it as uncertain", () => {
    const plan = planResume([job("a")], replay([submitting("a")]));
    expect(decisions(plan)).toEqual([["a", "submit", "uncertain"]]);
    expect(plan.uncertain).toEqual(["a"]);
  });

  it("skips an uncertain job with resubmitUncertain: false, still reporting it", () => {
    const plan = planResume([job("a")], replay([submitting("a")]), { resubmitUncertain: false });
    expect(decisions(plan)).toEqual([["a", "skip", "uncertain"]]);
    expect(plan.uncertain).toEqual(["a"]);
  });

  it("skips a failed job unless retryFailed is set", () => {
    const state = replay([submitting("a"), failed("a")]);
    expect(decisions(planResume([job("a")], state))).toEqual([["a", "skip", "failed"]]);
    expect(decisions(planResume([job("a")], state, { retryFailed: true }))).toEqual([
      ["a", "submit", "retry-failed"],
    ]);
  });

  it("with retryFailed polls a recorded task whose poll failed, and pays again only for a task that failed upstream", () => {
    const pollFailed: JournalRecord = {
      type: "failed",
      jobId: "a",
      hash: "hash-a",
      taskId: "t1",
      error: { code: "HTTP_200", message: "Visual API answered HTTP 200 without a JSON envelope" },
      retryable: true,
      at,
    };
    const taskFailed: JournalRecord = {
      ...pollFailed,
      jobId: "b",
      hash: "hash-b",
      taskId: "t2",
      status: "failed",
    };
    const state = replay([submitted("a", "t1"), pollFailed, submitted("b", "t2"), taskFailed]);
    expect(decisions(planResume([job("a"), job("b")], state))).toEqual([
      ["a", "skip", "failed"],
      ["b", "skip", "failed"],
    ]);
    const plan = planResume([job("a"), job("b")], state, { retryFailed: true });
    expect(decisions(plan)).toEqual([
      ["a", "poll", "retry-failed"],
      ["b", "submit", "retry-failed"],
    ]);
    expect(plan.jobs[0]?.ref?.taskId).toBe("t1");
  });

  it("polls a job whose wait timed out instead of paying for it again, with or without retryFailed", () => {
    const timedOut: JournalRecord = {
      type: "failed",
      jobId: "a",
      hash: "hash-a",
      error: { code: "TIMEOUT", message: "no result within 10 min" },
      retryable: true,
      at,
    };
    const state = replay([submitting("a"), submitted("a", "t1"), timedOut]);
    for (const options of [{}, { retryFailed: true }]) {
      const plan = planResume([job("a")], state, options);
      expect(decisions(plan)).toEqual([["a", "poll", "timed-out"]]);
      expect(plan.jobs[0]?.ref?.taskId).toBe("t1");
    }
  });

  it("finds a journal entry by content when line-derived ids shifted, so no job pays twice", () => {
    // Run 1 had two prompts on lines 1 and 2; a new prompt was then inserted at the top.
    const state = replay([submitted("line-1", "t1", "hash-A"), succeeded("line-2", "hash-B")]);
    const plan = planResume(
      [job("line-1", "hash-new"), job("line-2", "hash-A"), job("line-3", "hash-B")],
      state,
    );
    expect(decisions(plan)).toEqual([
      ["line-1", "submit", "new"],
      ["line-2", "poll", "submitted"],
      ["line-3", "skip", "succeeded"],
    ]);
    expect(plan.jobs.map((planned) => planned.matchedFrom)).toEqual([undefined, "line-1", "line-2"]);
    expect(plan.jobs[1]?.ref?.taskId).toBe("t1");
  });

  it("lets each of two identical jobs claim its own journal entry, never the same one twice", () => {
    const state = replay([submitted("x", "t1", "same"), submitted("y", "t2", "same")]);
    const plan = planResume([job("p", "same"), job("q", "same"), job("r", "same")], state);
    expect(plan.jobs.map((planned) => [planned.action, planned.ref?.taskId])).toEqual([
      ["poll", "t1"],
      ["poll", "t2"],
      ["submit", undefined],
    ]);
  });

  it("counts the actions", () => {
    const state = replay([succeeded("a"), submitted("b", "t")]);
    expect(planResume([job("a"), job("b"), job("c")], state).counts).toEqual({ skip: 1, poll: 1, submit: 1 });
  });
});
