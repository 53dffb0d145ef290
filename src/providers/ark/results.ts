/**
 * Where the Ark provider keeps the results of its synchronous image calls. Ark's image call has no task id to
 * poll: the images come back in the answer. The provider gives each submit a local task id and records every
 * image here as it arrives, so `get(ref)` (the wait loop, `jimeng result <id>`, a batch resume) reads them
 * back. The default store lives in memory; a file store (JSON lines, 0600, never a credential) lets another
 * process read them.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ensureFolder, openForAppend } from "../../fs/safe-write.js";
import type { TaskFailure, TaskOutput } from "../types.js";

export type ArkResultRecord =
  /**
   * One image of the set, as it arrived. `origin` is the API's origin at the time: an output it served itself
   * (the emulator does) follows the API to its new address when a later process reads it.
   */
  | { taskId: string; index: number; output: TaskOutput; origin?: string }
  /** One image of the set failed (the others may not have). */
  | { taskId: string; index: number; failure: TaskFailure }
  /** The call ended; `failure` when not one image came back. */
  | { taskId: string; done: true; requestId?: string; failure?: TaskFailure };

export interface ArkResultStore {
  append(record: ArkResultRecord): Promise<void>;
  /** Every record of `taskId`, in the order appended. */
  read(taskId: string): Promise<ArkResultRecord[]>;
}

const MAX_MEMORY_TASKS = 1024;

export function memoryResultStore(): ArkResultStore {
  const tasks = new Map<string, ArkResultRecord[]>();
  return {
    async append(record) {
      const list = tasks.get(record.taskId) ?? [];
      list.push(record);
      tasks.set(record.taskId, list);
      if (tasks.size > MAX_MEMORY_TASKS) {
        const oldest = tasks.keys().next().value;
        if (oldest !== undefined) tasks.delete(oldest);
      }
    },
    async read(taskId) {
      return [...(tasks.get(taskId) ?? [])];
    },
  };
}

/** A JSON-lines file store (created 0600, appended without following symlinks). */
export function fileResultStore(file: string): ArkResultStore {
  return {
    async append(record) {
      await ensureFolder(dirname(file), "the Ark results folder");
      const handle = await openForAppend(file, "the Ark results file");
      try {
        await handle.appendFile(`${JSON.stringify(record)}\n`);
      } finally {
        await handle.close();
      }
    },
    async read(taskId) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch {
        return [];
      }
      const records: ArkResultRecord[] = [];
      for (const line of text.split("\n")) {
        if (!line.includes(taskId)) continue;
        try {
          const record = JSON.parse(line) as ArkResultRecord;
          if (record.taskId === taskId) records.push(record);
        } catch {
          // A torn last line from a killed process: skip it.
        }
      }
      return records;
    },
  };
}

/** What the records of one task add up to. */
export function summarise(
  records: readonly ArkResultRecord[],
  origin?: string,
): {
  outputs: TaskOutput[];
  failures: TaskFailure[];
  done: boolean;
  requestId?: string;
  failure?: TaskFailure;
} {
  const outputs = new Map<number, TaskOutput>();
  const failures: TaskFailure[] = [];
  let done = false;
  let requestId: string | undefined;
  let failure: TaskFailure | undefined;
  for (const record of records) {
    if ("done" in record) {
      done = true;
      requestId = record.requestId;
      failure = record.failure;
    } else if ("output" in record) outputs.set(record.index, rebase(record.output, record.origin, origin));
    else failures.push(record.failure);
  }
  const ordered = [...outputs.entries()].sort(([a], [b]) => a - b).map(([, output]) => output);
  return {
    outputs: ordered,
    failures,
    done,
    ...(requestId ? { requestId } : {}),
    ...(failure ? { failure } : {}),
  };
}

function rebase(output: TaskOutput, from: string | undefined, to: string | undefined): TaskOutput {
  if (!output.url || !from || !to || from === to || !output.url.startsWith(`${from}/`)) return output;
  return { ...output, url: `${to}${output.url.slice(from.length)}` };
}
