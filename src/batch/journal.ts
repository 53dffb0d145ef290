/**
 * The batch journal: `<out>/.jimeng/journal.jsonl`, an append-only log with one JSON record per job
 * transition, made durable (write + fdatasync) before `append` resolves. A kill -9 at any moment leaves a
 * journal that reads back: a torn last line is skipped, and the next run starts on a fresh line.
 * `replay` folds the records into each job's latest state, which the resume planner and the report read.
 */
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { ApiError, isJimengError, NetworkError, PROVIDER_NAMES } from "../errors.js";
import { ensureFolder, openForAppend } from "../fs/safe-write.js";
import type { TaskRef } from "../providers/types.js";
import type { BatchJob } from "./job.js";

export const JOURNAL_DIR = ".jimeng";
export const JOURNAL_FILE = "journal.jsonl";

/** `<out>/.jimeng/journal.jsonl` */
export function journalPath(out: string): string {
  return path.join(out, JOURNAL_DIR, JOURNAL_FILE);
}

const fileSchema = z.object({ file: z.string(), sha256: z.string(), bytes: z.number() });
const errorSchema = z.object({
  code: z.union([z.string(), z.number()]),
  message: z.string(),
  requestId: z.string().optional(),
});
const base = { jobId: z.string(), hash: z.string(), at: z.string() };

/** One journal line. Unknown extra members are kept out; unknown record types are skipped on read. */
export const journalRecordSchema = z.discriminatedUnion("type", [
  /** Written before the submit request is sent: a run that dies now does not know whether it was accepted. */
  z.object({ type: z.literal("submitting"), ...base }),
  /** Written from `onSubmitted`: the provider accepted the job as this task. */
  z.object({
    type: z.literal("submitted"),
    ...base,
    taskId: z.string(),
    provider: z.enum(PROVIDER_NAMES),
    model: z.string(),
    kind: z.enum(["generate", "compose", "video"]),
    submittedAt: z.string().optional(),
    account: z.string().optional(),
    count: z.number().int().positive().optional(),
    /** The provider's endpoint the task was submitted to (a resume polls it there, or refuses). */
    endpoint: z.string().optional(),
  }),
  z.object({
    type: z.literal("succeeded"),
    ...base,
    taskId: z.string().optional(),
    files: z.array(fileSchema),
  }),
  z.object({
    type: z.literal("failed"),
    ...base,
    taskId: z.string().optional(),
    /** The task's final status when the task itself ended badly; absent when submitting or waiting failed. */
    status: z.enum(["failed", "expired", "cancelled"]).optional(),
    error: errorSchema,
    retryable: z.boolean(),
  }),
]);

export type JournalRecord = z.infer<typeof journalRecordSchema>;
export type JournalFileEntry = z.infer<typeof fileSchema>;
export type JournalError = z.infer<typeof errorSchema>;

export interface ReadJournalResult {
  records: JournalRecord[];
  /** Lines that did not parse (a torn last line after a crash), 1-based. */
  skippedLines: number[];
}

/** Reads a journal line by line; a missing journal is an empty one. Unparseable lines are skipped, not fatal. */
export async function readJournal(file: string): Promise<ReadJournalResult> {
  const records: JournalRecord[] = [];
  const { skippedLines } = await scanJournal(file, (record) => records.push(record));
  return { records, skippedLines };
}

/** Streams a journal's records to `onRecord` in order, without keeping them. */
async function scanJournal(
  file: string,
  onRecord: (record: JournalRecord) => void,
): Promise<{ skippedLines: number[] }> {
  const skippedLines: number[] = [];
  const input = createReadStream(file, { encoding: "utf8" });
  const opened = await new Promise<boolean>((resolve, reject) => {
    input.once("open", () => resolve(true));
    input.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") resolve(false);
      else reject(error);
    });
  });
  if (!opened) return { skippedLines };
  let lineNumber = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skippedLines.push(lineNumber);
      continue;
    }
    const parsed = journalRecordSchema.safeParse(value);
    if (parsed.success) onRecord(parsed.data);
    else skippedLines.push(lineNumber);
  }
  return { skippedLines };
}

/** A job's latest state according to the journal. */
export interface JobJournalState {
  jobId: string;
  status: "submitting" | "submitted" | "succeeded" | "failed";
  /** The hash of the job as it was when this state was recorded. */
  hash: string;
  /** The task of the latest submission, when the provider accepted it. */
  ref?: TaskRef;
  /** Where that task was submitted (the provider's endpoint), when recorded. */
  endpoint?: string;
  files?: JournalFileEntry[];
  error?: JournalError;
  retryable?: boolean;
  /** The task's final status for a task that ended badly. */
  taskStatus?: "failed" | "expired" | "cancelled";
  /** How many times the job was (about to be) submitted, over all runs. */
  submissions: number;
  /** When the latest transition was recorded (ISO 8601). */
  at: string;
}

export type JournalState = Map<string, JobJournalState>;

/** Folds records (in journal order) into each job's latest state. Pure. */
export function replay(records: Iterable<JournalRecord>): JournalState {
  const state: JournalState = new Map();
  for (const record of records) applyRecord(state, record);
  return state;
}

/** Folds one record into `state` (the job's entry is replaced, never mutated). */
export function applyRecord(state: JournalState, record: JournalRecord): void {
  const previous = state.get(record.jobId);
  const submissions = previous?.submissions ?? 0;
  switch (record.type) {
    case "submitting":
      state.set(record.jobId, {
        jobId: record.jobId,
        status: "submitting",
        hash: record.hash,
        submissions: submissions + 1,
        at: record.at,
      });
      break;
    case "submitted": {
      const ref: TaskRef = {
        provider: record.provider,
        taskId: record.taskId,
        model: record.model,
        kind: record.kind,
        submittedAt: record.submittedAt ?? record.at,
      };
      if (record.account !== undefined) ref.account = record.account;
      if (record.count !== undefined) ref.count = record.count;
      const next: JobJournalState = {
        jobId: record.jobId,
        status: "submitted",
        hash: record.hash,
        ref,
        submissions: Math.max(submissions, 1),
        at: record.at,
      };
      if (record.endpoint !== undefined) next.endpoint = record.endpoint;
      state.set(record.jobId, next);
      break;
    }
    case "succeeded": {
      const next: JobJournalState = {
        jobId: record.jobId,
        status: "succeeded",
        hash: record.hash,
        files: record.files,
        submissions,
        at: record.at,
      };
      const ref = refFor(previous, record.taskId);
      if (ref !== undefined) next.ref = ref;
      if (ref !== undefined && previous?.endpoint !== undefined) next.endpoint = previous.endpoint;
      state.set(record.jobId, next);
      break;
    }
    case "failed": {
      const next: JobJournalState = {
        jobId: record.jobId,
        status: "failed",
        hash: record.hash,
        error: record.error,
        retryable: record.retryable,
        submissions,
        at: record.at,
      };
      const ref = refFor(previous, record.taskId);
      if (ref !== undefined) next.ref = ref;
      if (ref !== undefined && previous?.endpoint !== undefined) next.endpoint = previous.endpoint;
      if (record.status !== undefined) next.taskStatus = record.status;
      state.set(record.jobId, next);
      break;
    }
  }
}

/** The previous state's task when the record names the same task (or none). */
function refFor(previous: JobJournalState | undefined, taskId: string | undefined): TaskRef | undefined {
  const ref = previous?.ref;
  if (ref === undefined) return undefined;
  return taskId === undefined || taskId === ref.taskId ? ref : undefined;
}

/** Reads and replays the journal in `out`. */
export async function replayJournal(out: string): Promise<{ state: JournalState; skippedLines: number[] }> {
  const state: JournalState = new Map();
  const { skippedLines } = await scanJournal(journalPath(out), (record) => applyRecord(state, record));
  return { state, skippedLines };
}

export interface JournalOptions {
  /**
   * `"data"` (default): fdatasync after each write, so a record survives power loss once `append` resolves.
   * `"none"`: leave flushing to the OS (still survives a killed process).
   */
  sync?: "data" | "none";
  /** ISO 8601 timestamps; injectable for tests. */
  now?: () => Date;
  /** Applied to every line before it is written (the CLI removes its secrets here). */
  redact?: (text: string) => string;
  /** Sees each record as it is appended (the batch runner keeps the state of its jobs in flight from it). */
  onRecord?: (record: JournalRecord) => void;
}

interface PendingWrite {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * An open journal. Appends are serialised; records that arrive while a write is in progress are written and
 * synced together (group commit), and each `append` resolves once its own record is durable.
 */
export class Journal {
  private pending: PendingWrite[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly sync: "data" | "none",
    private readonly now: () => Date,
    private readonly redact: (text: string) => string,
    private readonly onRecord: ((record: JournalRecord) => void) | undefined,
  ) {}

  /**
   * Opens (creating, 0600) `<out>/.jimeng/journal.jsonl` for appending; ends a torn last line first. Refuses
   * a journal or journal folder that is a symlink (UnsafePathError).
   */
  static async open(out: string, options: JournalOptions = {}): Promise<Journal> {
    const file = journalPath(out);
    await ensureFolder(path.dirname(file), "journal folder");
    const handle = await openForAppend(file, "journal");
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) await handle.appendFile("\n");
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new Journal(
      file,
      handle,
      options.sync ?? "data",
      options.now ?? (() => new Date()),
      options.redact ?? ((text) => text),
      options.onRecord,
    );
  }

  /** Appends one record; resolves when it is written (and synced, with `sync: "data"`). */
  append(record: JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    this.onRecord?.(record);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: this.redact(`${JSON.stringify(record)}\n`), resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.handle.appendFile(batch.map((write) => write.line).join(""));
        if (this.sync === "data") await this.handle.datasync();
        for (const write of batch) write.resolve();
      } catch (error) {
        for (const write of batch) write.reject(error);
      }
    }
    this.draining = undefined;
  }

  /** Now, as the journal stamps its records (ISO 8601). */
  stamp(): string {
    return this.now().toISOString();
  }

  /** Before the submit request is sent. */
  submitting(job: Pick<BatchJob, "id" | "hash">): Promise<void> {
    return this.append({ type: "submitting", jobId: job.id, hash: job.hash, at: this.stamp() });
  }

  /** From `onSubmitted`: the provider accepted the job as `ref` (at `endpoint`). */
  submitted(job: Pick<BatchJob, "id" | "hash">, ref: TaskRef, endpoint?: string): Promise<void> {
    const record: JournalRecord = {
      type: "submitted",
      jobId: job.id,
      hash: job.hash,
      taskId: ref.taskId,
      provider: ref.provider,
      model: ref.model,
      kind: ref.kind,
      submittedAt: ref.submittedAt,
      at: this.stamp(),
    };
    if (ref.account !== undefined) record.account = ref.account;
    if (ref.count !== undefined) record.count = ref.count;
    const where = endpoint === undefined ? undefined : withoutCredentials(endpoint);
    if (where !== undefined) record.endpoint = where;
    return this.append(record);
  }

  succeeded(
    job: Pick<BatchJob, "id" | "hash">,
    taskId: string | undefined,
    files: JournalFileEntry[],
  ): Promise<void> {
    const record: JournalRecord = {
      type: "succeeded",
      jobId: job.id,
      hash: job.hash,
      files,
      at: this.stamp(),
    };
    if (taskId !== undefined) record.taskId = taskId;
    return this.append(record);
  }

  /** Records a failure from any thrown error (or a task failure); only safe-to-print fields are kept. */
  failed(
    job: Pick<BatchJob, "id" | "hash">,
    error: unknown,
    details: { taskId?: string; status?: "failed" | "expired" | "cancelled" } = {},
  ): Promise<void> {
    const { error: summary, retryable } = summariseError(error);
    const record: JournalRecord = {
      type: "failed",
      jobId: job.id,
      hash: job.hash,
      error: summary,
      retryable,
      at: this.stamp(),
    };
    if (details.taskId !== undefined) record.taskId = details.taskId;
    if (details.status !== undefined) record.status = details.status;
    return this.append(record);
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    await this.handle.close();
  }
}

/** An endpoint as scheme, host and path: user info, query and fragment never reach the journal. */
export function withoutCredentials(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  } catch {
    return undefined;
  }
}

/** The journal's view of an error: code, message, request id, and whether retrying it is safe. */
export function summariseError(error: unknown): { error: JournalError; retryable: boolean } {
  if (isJimengError(error)) {
    const summary: JournalError = { code: error.code, message: error.message };
    let retryable = false;
    if (error instanceof ApiError) {
      if (error.requestId !== undefined) summary.requestId = error.requestId;
      retryable = error.retryable;
    } else if (error instanceof NetworkError) {
      retryable = error.notSent;
    }
    return { error: summary, retryable };
  }
  if (isTaskFailure(error)) {
    const summary: JournalError = { code: error.code, message: error.message };
    if (error.requestId !== undefined) summary.requestId = error.requestId;
    return { error: summary, retryable: false };
  }
  return {
    error: { code: "UNKNOWN", message: error instanceof Error ? error.message : String(error) },
    retryable: false,
  };
}

function isTaskFailure(
  value: unknown,
): value is { code: string | number; message: string; requestId?: string } {
  if (typeof value !== "object" || value === null || value instanceof Error) return false;
  const candidate = value as Record<string, unknown>;
  return (
    (typeof candidate.code === "string" || typeof candidate.code === "number") &&
    typeof candidate.message === "string"
  );
}
