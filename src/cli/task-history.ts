/**
 * What `jimeng tasks` shows: the local task list (tasks.jsonl) read back as one row per task, newest first.
 * Submissions are recorded when they are made; how a task ended (status, saved files) is appended as an
 * outcome line when a command sees it end. Outcome lines have no model, so the task-id lookups of
 * `jimeng result` skip them.
 */
import type { ProviderName } from "../errors.js";
import type { TaskKind, TaskState } from "../providers/types.js";
import { parseEntry, parseObject, type TaskOutcome } from "./task-index.js";

export interface TaskHistoryRow {
  taskId: string | null;
  provider: ProviderName;
  model: string;
  kind: TaskKind;
  submittedAt: string;
  /** `submitted` until a command saw the task end; `submitting` for a submit that was never answered. */
  status: TaskState | "submitted" | "submitting";
  files: string[];
  prompt?: string;
  /** Created through a shared `jimeng serve` at this URL. */
  server?: string;
}

const ENDED: readonly string[] = ["succeeded", "failed", "expired", "cancelled"];

/** Pure: an outcome line, or undefined when the line is not one. */
export function parseOutcome(line: string): TaskOutcome | undefined {
  const v = parseObject(line);
  if (v === undefined) return undefined;
  if (v.outcome !== "ended" || typeof v.taskId !== "string" || typeof v.provider !== "string")
    return undefined;
  if (typeof v.status !== "string" || !ENDED.includes(v.status) || typeof v.at !== "string") return undefined;
  const files = Array.isArray(v.files)
    ? v.files.filter((file): file is string => typeof file === "string")
    : [];
  return {
    outcome: "ended",
    taskId: v.taskId,
    provider: v.provider as ProviderName,
    status: v.status as TaskState,
    files,
    at: v.at,
  };
}

function submittingRow(line: string): TaskHistoryRow | undefined {
  const v = parseObject(line);
  if (v?.status !== "submitting" || typeof v.at !== "string") return undefined;
  const row: TaskHistoryRow = {
    taskId: null,
    provider: v.provider as ProviderName,
    model: String(v.model),
    kind: v.kind as TaskKind,
    submittedAt: v.at,
    status: "submitting",
    files: [],
  };
  if (typeof v.prompt === "string") row.prompt = v.prompt;
  return row;
}

/** Pure: the rows of the task list's text, newest submission first, at most `limit`. */
export function taskHistory(text: string, limit: number): TaskHistoryRow[] {
  const rows: TaskHistoryRow[] = [];
  const byTask = new Map<string, TaskHistoryRow>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const outcome = parseOutcome(line);
    if (outcome) {
      const row = byTask.get(`${outcome.provider}:${outcome.taskId}`);
      if (row) {
        row.status = outcome.status;
        if (outcome.files.length > 0) row.files = outcome.files;
      }
      continue;
    }
    const entry = parseEntry(line);
    if (entry) {
      const key = `${entry.provider}:${entry.taskId}`;
      if (byTask.has(key)) continue;
      const row: TaskHistoryRow = {
        taskId: entry.taskId,
        provider: entry.provider,
        model: entry.model,
        kind: entry.kind,
        submittedAt: entry.submittedAt,
        status: "submitted",
        files: [],
      };
      if (entry.prompt !== undefined) row.prompt = entry.prompt;
      if (entry.server !== undefined) row.server = entry.server;
      byTask.set(key, row);
      rows.push(row);
      continue;
    }
    const submitting = submittingRow(line);
    if (submitting) rows.push(submitting);
  }
  return rows.reverse().slice(0, limit);
}
