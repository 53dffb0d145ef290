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
  /** Every job's decision, in job order; empty when the run keeps memory flat (`retain: false`). */
  jobs: PlannedJob[];
  counts: Record<PlanAction, number>;
  /** Ids of jobs whose earlier submit is uncertain (resubmitted or skipped, per `resubmitUncertain`). */
  uncertain: string[];
  /** What is done with the uncertain jobs: submitted again (the default), or skipped. */
  uncertainAction: "submit" | "skip";
}

/** Plans a list of jobs at once (the streamed form is `ResumePlanner`). */
export function planResume(
  jobs: readonly BatchJob[],
  state: JournalState,
  options: PlanOptions = {},
): ResumePlan {
  const planner = new ResumePlanner(state, options);
  for (const job of jobs) planner.claimOwn(job);
  for (const job of jobs) planner.takeOver(job);
  const plan = planner.emptyPlan();
  for (const job of jobs) {
    const planned = planner.decide(job);
    planner.count(plan, planned);
    plan.jobs.push(planned);
  }
  return plan;
}

/**
 * The planner over a stream of jobs, for files too large to hold: the journal's state is in memory, the jobs
 * are not. Read the jobs in the same order three times: `claimOwn` each (a journal entry under the job's own id
 * with the job's content belongs to it), then `takeOver` each (other jobs take an unclaimed entry with their
 * content, in job order), then `decide` each, as often as needed: the answer for a job no longer changes.
 * A fresh run (an empty journal) can skip the first two reads.
 */
export class ResumePlanner {
  private readonly retryFailed: boolean;
  private readonly resubmitUncertain: boolean;
  /** Journal entries (by their job id) that a job of the file owns or took over. */
  private readonly claimed = new Set<string>();
  /** Journal entries (by their job id) whose id a job of the file has, whatever its content. */
  private readonly idsInFile = new Set<string>();
  /** Job id → the entry it took over by content (recorded under another id). */
  private readonly takenOver = new Map<string, JobJournalState>();
  private byHash: Map<string, JobJournalState[]> | undefined;

  constructor(
    private readonly state: JournalState,
    options: PlanOptions = {},
  ) {
    this.retryFailed = options.retryFailed ?? false;
    this.resubmitUncertain = options.resubmitUncertain ?? true;
  }

  /** True when the journal has entries, so `claimOwn` and `takeOver` must see every job first. */
  get needsClaims(): boolean {
    return this.state.size > 0;
  }

  /** First read: a journal entry under the job's own id with the job's content belongs to that job. */
  claimOwn(job: BatchJob): void {
    const own = this.state.get(job.id);
    if (own === undefined) return;
    this.idsInFile.add(job.id);
    if (own.hash === job.hash) this.claimed.add(job.id);
  }

  /** Whether a job of the file has the id of journal entry `jobId` (after `claimOwn` saw every job). */
  inFile(jobId: string): boolean {
    return this.idsInFile.has(jobId);
  }

  /** Second read: a job without its own entry takes over an unclaimed one with its content, in job order. */
  takeOver(job: BatchJob): void {
    if (this.state.get(job.id)?.hash === job.hash || this.takenOver.has(job.id)) return;
    this.byHash ??= this.unclaimedByHash();
    const match = this.byHash.get(job.hash)?.shift();
    if (match === undefined) return;
    this.takenOver.set(job.id, match);
    this.claimed.add(match.jobId);
  }

  /** What to do with the job (after every job was claimed and taken over). */
  decide(job: BatchJob): PlannedJob {
    const own = this.state.get(job.id);
    // Without a matching entry, an unclaimed one under the job's id means the job changed.
    const entry =
      (own?.hash === job.hash ? own : this.takenOver.get(job.id)) ??
      (own !== undefined && !this.claimed.has(own.jobId) ? own : undefined);
    const decision = decide(job, entry, this.retryFailed, this.resubmitUncertain);
    if (entry !== undefined) decision.previous = entry;
    if (entry !== undefined && entry.jobId !== job.id) decision.matchedFrom = entry.jobId;
    return decision;
  }

  /** The journal's entry under `jobId`, whatever its content. */
  stateOf(jobId: string): JobJournalState | undefined {
    return this.state.get(jobId);
  }

  /** Entries no job of the file owns or took over (after `takeOver` saw every job). */
  *unclaimed(): Iterable<JobJournalState> {
    for (const entry of this.state.values()) if (!this.claimed.has(entry.jobId)) yield entry;
  }

  emptyPlan(): ResumePlan {
    return {
      jobs: [],
      counts: { skip: 0, poll: 0, submit: 0 },
      uncertain: [],
      uncertainAction: this.resubmitUncertain ? "submit" : "skip",
    };
  }

  /** Adds a decision to the plan's counts. */
  count(plan: ResumePlan, planned: PlannedJob): void {
    plan.counts[planned.action]++;
    if (planned.reason === "uncertain") plan.uncertain.push(planned.job.id);
  }

  private unclaimedByHash(): Map<string, JobJournalState[]> {
    const byHash = new Map<string, JobJournalState[]>();
    for (const entry of this.unclaimed()) {
      const list = byHash.get(entry.hash);
      if (list === undefined) byHash.set(entry.hash, [entry]);
      else list.push(entry);
    }
    return byHash;
  }
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
