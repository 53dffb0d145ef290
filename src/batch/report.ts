/**
 * The batch report (`<out>/report.json`, and `jimeng batch --json` on stdout), built from the jobs and the
 * journal's latest state. Pure.
 */
import type { TaskState } from "../providers/types.js";
import type { BatchJob } from "./job.js";
import type { JobJournalState, JournalError, JournalFileEntry, JournalState } from "./journal.js";

export interface BatchReportJob {
  id: string;
  /**
   * `succeeded`; `failed` / `expired` / `cancelled` for a job that ended badly; `running` for a job submitted
   * but not finished (an interrupted run); `queued` for a job never submitted (or whose submit is uncertain).
   */
  status: TaskState;
  taskId: string | null;
  files: JournalFileEntry[];
  error?: JournalError;
}

export interface BatchReport {
  total: number;
  succeeded: number;
  /** Jobs that ended `failed`, `expired` or `cancelled`. */
  failed: number;
  /** True when the run was stopped (abort, Ctrl-C) before every job finished. */
  interrupted: boolean;
  jobs: BatchReportJob[];
  /**
   * Paid tasks of jobs that changed (or left the file) while their task was still running: polled and saved
   * under their own record (`<id>~<old hash>`), so nothing paid for is dropped. Only when there are some.
   */
  superseded?: Array<BatchReportJob & { replacedBy?: string }>;
  startedAt: string;
  finishedAt: string;
}

export interface BuildReportInput {
  jobs: readonly Pick<BatchJob, "id" | "hash">[];
  state: JournalState;
  startedAt: Date | string;
  finishedAt: Date | string;
  interrupted?: boolean;
}

/**
 * One entry per job, in job order. A journal entry recorded for an older version of a job (another hash)
 * does not count: the job is reported as not yet run.
 */
export function buildReport(input: BuildReportInput): BatchReport {
  const jobs = input.jobs.map((job) => reportEntry(job, input.state.get(job.id)));
  return {
    total: jobs.length,
    succeeded: jobs.filter(isSucceeded).length,
    failed: jobs.filter(isFailed).length,
    interrupted: input.interrupted ?? false,
    jobs,
    startedAt: iso(input.startedAt),
    finishedAt: iso(input.finishedAt),
  };
}

/** A job's report entry from its latest journal state (`undefined`: nothing recorded yet). */
export function reportEntry(
  job: Pick<BatchJob, "id" | "hash">,
  entry: JobJournalState | undefined,
): BatchReportJob {
  const current = entry !== undefined && entry.hash === job.hash ? entry : undefined;
  const out: BatchReportJob = {
    id: job.id,
    status: "queued",
    taskId: current?.ref?.taskId ?? null,
    files: [],
  };
  switch (current?.status) {
    case "succeeded":
      out.status = "succeeded";
      out.files = current.files ?? [];
      break;
    case "failed":
      out.status = current.taskStatus ?? "failed";
      if (current.error !== undefined) out.error = current.error;
      break;
    case "submitted":
      out.status = "running";
      break;
    default:
      break;
  }
  return out;
}

export function isSucceeded(entry: BatchReportJob): boolean {
  return entry.status === "succeeded";
}

/** Ended badly: `failed`, `expired` or `cancelled`. */
export function isFailed(entry: BatchReportJob): boolean {
  return entry.status === "failed" || entry.status === "expired" || entry.status === "cancelled";
}

export function iso(value: Date | string): string {
  return typeof value === "string" ? value : value.toISOString();
}
