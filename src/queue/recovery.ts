/**
 * What a restarted service does with each unfinished task, decided by the batch engine's resume planner
 * (src/batch/plan.ts) so that `jimeng serve` and `jimeng batch --resume` follow one money-safety rule:
 *
 * - a task whose upstream id was recorded is polled, never submitted again;
 * - a task caught mid-submit (the submit started, no id recorded) is uncertain: submitted again by default
 *   (it may be charged twice), or failed with `UNCERTAIN_SUBMIT` when `resubmitUncertain` is false;
 * - a task never started is simply queued.
 */
import type { BatchJob } from "../batch/job.js";
import type { JobJournalState, JournalState } from "../batch/journal.js";
import { type PlanAction, planResume } from "../batch/plan.js";
import type { StoredTask } from "./store.js";

export type RecoveryAction = PlanAction | "queue";

const SAME_CONTENT = "stored";

/** Pure. */
export function recoveryAction(task: StoredTask, resubmitUncertain: boolean): RecoveryAction {
  if (task.status === "pending") return "queue";
  const job: BatchJob = {
    id: task.id,
    kind: task.request.kind,
    prompt: task.request.prompt,
    source: { file: "jimeng.db", line: 0 },
    hash: SAME_CONTENT,
  };
  const entry: JobJournalState = {
    jobId: task.id,
    status: task.status === "submitting" ? "submitting" : "submitted",
    hash: SAME_CONTENT,
    submissions: task.submits,
    at: new Date(task.updatedAt).toISOString(),
    ...(task.ref ? { ref: task.ref } : {}),
  };
  const state: JournalState = new Map([[task.id, entry]]);
  const [planned] = planResume([job], state, { resubmitUncertain }).jobs;
  return planned?.action ?? "submit";
}
