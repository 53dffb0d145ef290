/**
 * How many outputs of a task are kept: what was asked for (`count`, carried in the ref), else what the kind
 * can produce (one video; at most 15 images, the largest count any model takes). A server answering hundreds
 * of URLs gets at most that many saved, and the caller is told how many were ignored.
 */
import type { TaskOutput, TaskRef } from "../providers/types.js";

export const MAX_IMAGE_OUTPUTS = 15;

export function outputLimit(ref: Pick<TaskRef, "kind" | "count">): number {
  if (ref.kind === "video") return 1;
  return Math.min(ref.count ?? MAX_IMAGE_OUTPUTS, MAX_IMAGE_OUTPUTS);
}

/** The outputs to keep, and how many beyond the limit were ignored. Pure. */
export function capOutputs<T extends { outputs: TaskOutput[] }>(
  status: T,
  ref: Pick<TaskRef, "kind" | "count">,
): { status: T; ignored: number } {
  const limit = outputLimit(ref);
  if (status.outputs.length <= limit) return { status, ignored: 0 };
  return {
    status: { ...status, outputs: status.outputs.slice(0, limit) },
    ignored: status.outputs.length - limit,
  };
}
