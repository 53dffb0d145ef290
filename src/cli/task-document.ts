/**
 * The contract's `--json` document of `generate`, `compose`, `video` and `result`, and the human lines that
 * stand for it (the saved paths, else the output URLs).
 */
import { JimengError, type ProviderName } from "../errors.js";
import type { DownloadedFile } from "../media/download.js";
import type { TaskOutput, TaskState, TaskStatus } from "../providers/types.js";
import type { Output } from "./output.js";
import { safeText } from "./terminal-text.js";

/** One output in the `--json` document. */
export interface OutputEntry {
  url?: string;
  file?: string;
  bytes?: number;
  sha256?: string;
  contentType?: string;
}

/** The contract's `--json` document of `generate`, `compose`, `video` and `result`. */
export interface TaskDocument {
  taskId: string;
  provider: ProviderName;
  model: string;
  status: TaskState;
  outputs: OutputEntry[];
  error?: { code: string | number; message: string; requestId?: string };
  /** `finishedAt` is null while the task has not ended (a timeout, an interruption, `result` without --wait). */
  timings: { submittedAt: string; finishedAt: string | null; polls: number };
}

/** Pure: the outputs a task reported, with the files they were saved to (matched by index). */
export function outputEntries(
  outputs: readonly TaskOutput[],
  files: readonly DownloadedFile[] = [],
): OutputEntry[] {
  return outputs.map((output, index) => {
    const entry: OutputEntry = {};
    if (output.url !== undefined) entry.url = output.url;
    const file = files.find((candidate) => candidate.index === index);
    if (file) {
      entry.file = file.file;
      entry.bytes = file.bytes;
      entry.sha256 = file.sha256;
      entry.contentType = file.contentType;
    } else if (output.contentType !== undefined) {
      entry.contentType = output.contentType;
    }
    return entry;
  });
}

/** Pure: the `error` member for a failure: the task's own failure when it has one, else the thrown error's. */
export function errorMember(error: unknown, status?: TaskStatus): NonNullable<TaskDocument["error"]> {
  if (status && "error" in status) {
    const { code, message, requestId } = status.error;
    const failure = status.requestId ?? requestId;
    return { code, message, ...(failure !== undefined ? { requestId: failure } : {}) };
  }
  if (error instanceof JimengError) {
    const json = error.toJSON();
    return {
      code: json.code,
      message: json.message,
      ...(json.requestId ? { requestId: json.requestId } : {}),
    };
  }
  return { code: "UNEXPECTED", message: error instanceof Error ? error.message : String(error) };
}

/** Human lines for a finished task: saved paths, else the output URLs. */
export function printOutputs(output: Output, entries: readonly OutputEntry[]): void {
  for (const entry of entries) {
    const line = entry.file ?? entry.url;
    if (line !== undefined) output.print(safeText(line, 4000));
  }
}
