/** What the batch runner reports while it works; the CLI turns these into bars or lines. */
import type { TaskRef, TaskState } from "../providers/types.js";
import type { BatchJob } from "./job.js";
import type { JournalError, JournalFileEntry } from "./journal.js";
import type { PlanReason, ResumePlan } from "./plan.js";
import type { ConcurrencyChange } from "./rate.js";

export type BatchEvent =
  /**
   * The plan, before anything is sent. `uncertain`: jobs whose earlier submit may or may not have landed.
   * `plan.jobs` is empty when the run keeps memory flat (`retain: false`).
   */
  | { type: "plan"; plan: ResumePlan; total: number; archivedJournal?: string; skippedLines: number[] }
  /**
   * A job left alone: already succeeded, failed earlier (without `retryFailed`; `error` is that failure), or
   * uncertain and not resubmitted.
   */
  | { type: "skip"; job: BatchJob; reason: PlanReason; error?: JournalError }
  /** A job took a concurrency slot: it will submit, or poll the task an earlier run submitted. */
  | { type: "start"; job: BatchJob; action: "submit" | "poll"; reason: PlanReason }
  | { type: "submitted"; job: BatchJob; ref: TaskRef }
  | { type: "status"; job: BatchJob; ref: TaskRef; status: TaskState; elapsedMs: number }
  | { type: "download"; job: BatchJob; ref: TaskRef; index: number; bytes: number; total?: number }
  /** A failure safe to retry; the job goes on after `delayMs`. */
  | {
      type: "retry";
      job: BatchJob;
      phase: "submit" | "wait" | "download";
      attempt: number;
      delayMs: number;
      error: JournalError;
    }
  /** The provider throttled the batch for the first time; the effective concurrency dropped. Sent once. */
  | { type: "throttled"; from: number; to: number }
  /** Every change of the effective concurrency (down on throttling, back up on success). */
  | { type: "concurrency"; change: ConcurrencyChange }
  /** A job ended in this run. */
  | {
      type: "end";
      job: BatchJob;
      status: "succeeded" | "failed" | "expired" | "cancelled";
      taskId?: string;
      files: JournalFileEntry[];
      error?: JournalError;
    }
  /**
   * A task the journal records as paid and unfinished that no job of the file claims any more (the job changed
   * or left the file): it is polled and saved under its own record instead of being dropped.
   */
  | { type: "superseded"; job: BatchJob; ref: TaskRef; replacedBy?: string }
  /** The first abort: no more submits; waits and downloads stop. */
  | { type: "interrupted" };

export type OnBatchEvent = (event: BatchEvent) => void;
