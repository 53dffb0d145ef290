/**
 * What a job on the shared BullMQ queue carries, and its deterministic id. The job is the record a worker on
 * another machine trusts: `submitting` is written before the paid request is sent and the upstream `ref`
 * before any poll, so the next worker to hold the job knows whether to poll, decide on an uncertain submit,
 * or submit.
 */
import { z } from "zod";
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

const jobDataSchema = z.object({
  /** The serve task's id (or the batch job's). */
  taskId: z.string().min(1),
  request: z.record(z.string(), z.unknown()),
  /** Where the outputs go, under `<data>/files`: one plain folder name, never a path. */
  folder: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .refine((name) => name !== "." && name !== ".."),
  /** A submit started and no upstream id was recorded yet. */
  submitting: z.boolean().optional(),
  /** Submits started for this job (more than 1 only after an uncertain submit was sent again). */
  submits: z.number().int().nonnegative(),
  ref: refSchema.optional(),
  error: z
    .object({
      code: z.union([z.string(), z.number()]),
      message: z.string(),
      requestId: z.string().optional(),
    })
    .optional(),
});

export interface QueueJobData {
  taskId: string;
  request: StoredRequest;
  folder: string;
  submitting?: boolean;
  submits: number;
  ref?: TaskRef;
  error?: StoredError;
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
