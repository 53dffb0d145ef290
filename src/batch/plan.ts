/**
 * The resume planner: given the validated jobs and the replayed journal, what to do with each job. Pure.
 *
 * | journal says                         | action                                                      |
 * |--------------------------------------|-------------------------------------------------------------|
 * | nothing                              | submit (new)                                                |
 * | a different hash                     | submit (changed)                                            |
 * | succeeded                            | skip                                                        |
 * | submitted, with a task id            | poll that task — never submit it again                      |
 * | submitting, no task id (uncertain)   | submit (default), or skip with `resubmitUncertain: false`   |
 * | failed: the wait timed out (task id) | poll that task again — it may have finished since            |
 * | failed: a poll or download (task id) | skip, or with `retryFailed: true` poll that task again       |
 * | failed                               | skip, or submit with `retryFailed: true`                    |
 *
 * A job whose id is not in the journal (or whose entry there has a different hash) takes over an unclaimed
 * journal entry with the same content hash: inserting a line in a `.txt` file shifts the `line-N` ids of the
 * lines below it, and renaming a job must not make it pay again either.
 */
import type { TaskRef } from "../providers/types.js";
import type { BatchJob } from "./job.js";
import type { JobJournalState, JournalState } from "./journal.js";

export type PlanAction = "skip" | "poll" | "submit";
export type PlanReason =
  | "new"
  | "changed"
  | "succeeded"
  | "submitted"
  | "uncertain"
  | "failed"
  | "retry-failed"
  | "timed-out"
  /** Succeeded, but its files are missing or changed on disk: its task is polled and downloaded again. */
  | "missing-files";

export interface PlannedJob {
  job: BatchJob;
  action: PlanAction;
  reason: PlanReason;
  /** For `poll`: the task to wait for. */
  ref?: TaskRef;
  /** The journal state the decision was based on. */
  previous?: JobJournalState;
  /** When the journal entry was found by content under another id (shifted `line-N` ids, a renamed job). */
  matchedFrom?: string;
}

export interface PlanOptions {
  /** Submit jobs whose last attempt failed (default false: they are skipped and stay failed). */
  retryFailed?: boolean;
  /**
   * Submit jobs whose submit was started but never confirmed (default true). Such a job may have been
   * accepted and charged; `false` skips them instead, and they stay visible as `uncertain`.
   */
  resubmitUncertain?: boolean;
}

export interface ResumePlan {
  jobs: PlannedJob[];
  counts: Record<PlanAction, number>;
  /** Ids of jobs whose earlier submit is uncertain (resubmitted or skipped, per `resubmitUncertain`). */
  uncertain: string[];
}

export function planResume(
  jobs: readonly BatchJob[],
  state: JournalState,
  options: PlanOptions = {},
): ResumePlan {
  const retryFailed = options.retryFailed ?? false;
  const resubmitUncertain = options.resubmitUncertain ?? true;

  // 1. A journal entry under the job's own id with the job's content belongs to that job.
  const entries = new Map<BatchJob, JobJournalState>();
  const claimed = new Set<string>();
  for (const job of jobs) {
    const own = state.get(job.id);
    if (own?.hash === job.hash) {
      entries.set(job, own);
      claimed.add(job.id);
    }
  }
  // 2. Other jobs take over an unclaimed entry with their content, in job order.
  const byHash = new Map<string, JobJournalState[]>();
  for (const entry of state.values()) {
    if (claimed.has(entry.jobId)) continue;
    const list = byHash.get(entry.hash);
    if (list === undefined) byHash.set(entry.hash, [entry]);
    else list.push(entry);
  }
  for (const job of jobs) {
    if (entries.has(job)) continue;
    const match = byHash.get(job.hash)?.shift();
    if (match !== undefined) {
      entries.set(job, match);
      claimed.add(match.jobId);
    }
  }

  const planned: PlannedJob[] = [];
  const counts: Record<PlanAction, number> = { skip: 0, poll: 0, submit: 0 };
  const uncertain: string[] = [];
  for (const job of jobs) {
    // 3. Without a matching entry, an unclaimed one under the job's id means the job changed.
    const own = state.get(job.id);
    const entry = entries.get(job) ?? (own !== undefined && !claimed.has(own.jobId) ? own : undefined);
    const decision = decide(job, entry, retryFailed, resubmitUncertain);
    if (decision.reason === "uncertain") uncertain.push(job.id);
    if (entry !== undefined) decision.previous = entry;
    if (entry !== undefined && entry.jobId !== job.id) decision.matchedFrom = entry.jobId;
    counts[decision.action]++;
    planned.push(decision);
  }
  return { jobs: planned, counts, uncertain };
}

function decide(
  job: BatchJob,
  entry: JobJournalState | undefined,
  retryFailed: boolean,
  resubmitUncertain: boolean,
): PlannedJob {
  if (entry === undefined) return { job, action: "submit", reason: "new" };
  if (entry.hash !== job.hash) return { job, action: "submit", reason: "changed" };
  switch (entry.status) {
    case "succeeded":
      return { job, action: "skip", reason: "succeeded" };
    case "submitted":
      if (entry.ref !== undefined) return { job, action: "poll", reason: "submitted", ref: entry.ref };
      return { job, action: resubmitUncertain ? "submit" : "skip", reason: "uncertain" };
    case "submitting":
      return { job, action: resubmitUncertain ? "submit" : "skip", reason: "uncertain" };
    case "failed":
      // Only the wait gave up: the task itself did not fail, so poll it again rather than pay for a new one.
      if (entry.ref !== undefined && entry.taskStatus === undefined && entry.error?.code === "TIMEOUT") {
        return { job, action: "poll", reason: "timed-out", ref: entry.ref };
      }
      // A recorded task that did not fail upstream (a poll or a download did) is polled, never paid again.
      if (retryFailed && entry.ref !== undefined && entry.taskStatus === undefined) {
        return { job, action: "poll", reason: "retry-failed", ref: entry.ref };
      }
      return retryFailed
        ? { job, action: "submit", reason: "retry-failed" }
        : { job, action: "skip", reason: "failed" };
  }
}
