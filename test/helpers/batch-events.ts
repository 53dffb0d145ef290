/** Batch runner events for tests of what the CLI shows of a batch. */
import type { BatchJob } from "../../src/batch/job.js";
import type { BatchEvent } from "../../src/batch/runner.js";

export const job = (id: string): BatchJob => ({
  id,
  hash: `h-${id}`,
  kind: "generate",
  prompt: `prompt ${id}`,
  source: { file: "jobs.jsonl", line: 1 },
});

export const ref = (taskId: string) => ({
  provider: "visual" as const,
  taskId,
  model: "m",
  kind: "generate" as const,
  submittedAt: "2026-01-01T00:00:00.000Z",
});

/** The plan of a fresh run of `total` jobs. */
export const plan = (total: number): BatchEvent => ({
  type: "plan",
  total,
  skippedLines: [],
  plan: { jobs: [], counts: { submit: total, poll: 0, skip: 0 }, uncertain: [], uncertainAction: "submit" },
});
