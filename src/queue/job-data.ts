/**
 * What a job on the shared BullMQ queue carries, and its deterministic id. The job is the record a worker on
 * another machine trusts: `submitting` is written before the paid request is sent and the upstream `ref`
 * before any poll, so the next worker to hold the job knows whether to poll, decide on an uncertain submit,
 * or submit.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { PROVIDER_NAMES, type ProviderName } from "../errors.js";
import type { TaskRef } from "../providers/types.js";
import { parseOrThrow } from "../validation.js";
import type { StoredError, StoredOutput, StoredRequest } from "./store.js";

const refSchema = z.object({
  provider: z.string().min(1),
  taskId: z.string().min(1),
  model: z.string(),
  kind: z.string().min(1),
  submittedAt: z.string(),
  account: z.string().optional(),
  count: z.number().int().positive().optional(),
});

const plainName = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/)
  .refine((name) => name !== "." && name !== "..");

/** A batch job's output folder relative to the shared data folder: plain names joined by "/", never "..". */
const relativeFolder = z
  .string()
  .max(1024)
  .refine((dir) => dir === "" || dir.split("/").every((part) => plainName.safeParse(part).success), {
    message: 'must be a folder inside the data folder: plain names joined by "/"',
  });

const jobDataSchema = z
  .object({
    /** The serve task's id (or the batch job's). */
    taskId: z.string().min(1),
    request: z.record(z.string(), z.unknown()),
    /** A serve task's outputs go to `<data>/files/<folder>`: one plain folder name, never a path. */
    folder: plainName.optional(),
    /** A batch job's outputs go to `<data>/<dir>`, named by the batch's template. */
    output: z
      .object({ dir: relativeFolder, name: z.string().min(1).max(512), id: z.string().min(1) })
      .optional(),
    /** The provider a batch job names (default: the worker's own). */
    provider: z.enum(PROVIDER_NAMES).optional(),
    /** Deadline of the task's wait, in ms (a batch's `--timeout`). */
    timeoutMs: z.number().int().positive().optional(),
    /** A submit started and no upstream id was recorded yet. */
    submitting: z.boolean().optional(),
    /** Submits started for this job (more than 1 only after an uncertain submit was sent again). */
    submits: z.number().int().nonnegative(),
    ref: refSchema.optional(),
    /** Waits and downloads of `ref` that failed in a way safe to retry (the worker's `retries` bounds them). */
    retried: z.number().int().nonnegative().optional(),
    /** The last of those failures, for the batch that follows the job (its progress shows the retry). */
    retry: z
      .object({
        phase: z.enum(["wait", "download"]),
        delayMs: z.number().nonnegative(),
        error: z.object({ code: z.union([z.string(), z.number()]), message: z.string() }),
      })
      .optional(),
    error: z
      .object({
        code: z.union([z.string(), z.number()]),
        message: z.string(),
        requestId: z.string().optional(),
      })
      .optional(),
  })
  .refine((data) => (data.folder === undefined) !== (data.output === undefined), {
    message: "a job has either a folder (serve) or an output (batch)",
  });

/** Where a batch job's worker saves its outputs: `<data>/<dir>/<name template>`. */
export interface QueueJobOutput {
  /** Relative to the shared data folder, "/"-separated; "" is the data folder itself. */
  dir: string;
  /** The batch's file name template (`{id}-{index}` by default). */
  name: string;
  /** The batch job's id, for `{id}` in the template. */
  id: string;
}

export interface QueueJobData {
  taskId: string;
  request: StoredRequest;
  folder?: string;
  output?: QueueJobOutput;
  provider?: ProviderName;
  timeoutMs?: number;
  submitting?: boolean;
  submits: number;
  ref?: TaskRef;
  retried?: number;
  retry?: QueueJobRetry;
  error?: StoredError;
}

/** A wait or download failure that a worker handed the job back for, to be tried again after `delayMs`. */
export interface QueueJobRetry {
  phase: "wait" | "download";
  delayMs: number;
  error: { code: string | number; message: string };
}

/** What a finished job returns: its upstream task and the files it saved. */
export interface QueueJobResult {
  ref: TaskRef;
  outputs: StoredOutput[];
}

/** Sent with `job.updateProgress`, read by the API nodes. */
export type QueueJobProgress =
  | { stage: "submitting" }
  | { stage: "processing"; ref: TaskRef; progress: number };

/** Validates data read back from Redis (anything may have written it). */
export function parseJobData(data: unknown): QueueJobData {
  return parseOrThrow(jobDataSchema, data) as QueueJobData;
}

/**
 * The BullMQ job id of a task: the same task id always gives the same job id, so queueing it twice (two API
 * nodes, a reconcile, a re-run batch) adds one job. BullMQ ids may not contain ":" nor be integers, hence
 * the encoding.
 */
export function jobIdFor(taskId: string): string {
  return `t-${Buffer.from(taskId, "utf8").toString("base64url")}`;
}

export function taskIdOf(jobId: string): string | undefined {
  if (!jobId.startsWith("t-")) return undefined;
  return Buffer.from(jobId.slice(2), "base64url").toString("utf8");
}

/**
 * The BullMQ job id of a batch job in one run (`run` is kept beside the batch's journal): the same job of the
 * same run always gives the same id, so a re-attached or re-run batch adds each job once. A job whose content
 * changed (another hash) is another job. Never parsed back: serve nodes ignore these jobs.
 */
export function batchJobIdFor(run: string, job: { id: string; hash: string }): string {
  const digest = createHash("sha256").update(`${run}\0${job.id}\0${job.hash}`).digest("base64url");
  return `b-${digest.slice(0, 32)}`;
}
