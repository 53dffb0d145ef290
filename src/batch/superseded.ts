/**
 * Tasks the journal records as submitted (so paid, and maybe still running) that no job of the file claims any
 * more: the job changed (another content hash), or left the file. They are polled and saved under their
 * own record: the old id, or `<id>~<old hash>` when the changed job still uses the id.
 */
import type { TaskRef } from "../providers/types.js";
import type { BatchJob } from "./job.js";
import { JOURNAL_FILE } from "./journal.js";
import type { ResumePlanner } from "./plan.js";

export interface Superseded {
  /** A stand-in job under which the task's result is journaled and its files are named. */
  job: BatchJob;
  ref: TaskRef;
  endpoint?: string;
  /** The id of the (changed) job of the file that replaced it, when there is one. */
  replacedBy?: string;
}

/** After the planner's `takeOver` pass. */
export function supersededTasks(planner: ResumePlanner): Superseded[] {
  const found: Superseded[] = [];
  for (const entry of planner.unclaimed()) {
    if (entry.status !== "submitted" || entry.ref === undefined) continue;
    const replaced = planner.inFile(entry.jobId);
    const id = replaced ? `${entry.jobId}~${entry.hash.slice(0, 8)}` : entry.jobId;
    const job: BatchJob = {
      id,
      hash: entry.hash,
      kind: entry.ref.kind,
      prompt: "",
      source: { file: JOURNAL_FILE, line: 0 },
    };
    found.push({
      job,
      ref: entry.ref,
      ...(entry.endpoint !== undefined ? { endpoint: entry.endpoint } : {}),
      ...(replaced ? { replacedBy: entry.jobId } : {}),
    });
  }
  return found;
}
