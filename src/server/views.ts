/**
 * The answers of `jimeng serve`, in the seeds' shapes, built from stored tasks. Pure. Output links point at
 * the service's own copy (`/api/v1/files/<task_id>/<n>.<ext>`); the upstream link is kept as `source_url`.
 */
import path from "node:path";
import type { StoredBatch, StoredTask } from "../queue/store.js";

/** Seed 000's provider word for the official API; the session provider keeps its own name. */
export function providerWord(task: StoredTask): string {
  return task.ref?.provider === "session" ? "jimeng_session" : "volcengine_jimeng";
}

/** The seeds' status words: a task being submitted is already `processing`. */
export function statusWord(
  task: StoredTask,
): "pending" | "processing" | "completed" | "failed" | "cancelled" {
  return task.status === "submitting" ? "processing" : task.status;
}

export function fileUrls(task: StoredTask, baseUrl: string): string[] {
  return task.outputs.map(
    (output, index) =>
      `${baseUrl}/api/v1/files/${encodeURIComponent(task.id)}/${index + 1}${path.extname(output.file)}`,
  );
}

const CREATED_MESSAGE = "task created; poll its result";

/** Seed 000's `201` answer. */
export function createdView(task: StoredTask, systemTaskId: string) {
  return {
    success: true,
    data: {
      task_id: task.id,
      status: "pending",
      message: CREATED_MESSAGE,
      provider: task.request.kind === "video" ? "volcengine_jimeng_video" : "volcengine_jimeng",
      system_task_id: systemTaskId,
    },
    message: "image generation task created",
  };
}

/** Seed 000's result answers: the HTTP status and the body. */
export function resultView(
  task: StoredTask,
  baseUrl: string,
): { status: number; body: Record<string, unknown> } {
  const status = statusWord(task);
  if (status === "pending" || status === "processing") {
    return {
      status: 202,
      body: {
        success: true,
        data: {
          task_id: task.id,
          status,
          progress: task.progress,
          message: "task in progress; poll again later",
        },
      },
    };
  }
  if (status === "failed" || status === "cancelled") {
    return {
      status: 500,
      body: {
        error: status === "failed" ? "task failed" : "task cancelled",
        message: task.error?.message ?? "the task was cancelled before it was submitted",
        data: { task_id: task.id, status, ...(task.error ? { code: task.error.code } : {}) },
      },
    };
  }
  const urls = fileUrls(task, baseUrl);
  const video = task.request.kind === "video";
  const first = urls[0] ?? "";
  const result = {
    id: task.id,
    type: video ? "video" : "image",
    ...(video ? { video_url: first } : { image_url: first }),
    provider: providerWord(task),
    // The seed's duration is in nanoseconds.
    duration: ((task.finishedAt ?? task.updatedAt) - task.createdAt) * 1_000_000,
    cost: task.credits,
    metadata: {
      task_id: task.id,
      upstream_task_id: task.ref?.taskId,
      model: (task.meta.model as string | undefined) ?? task.request.model,
      upstream_model: task.ref?.model,
      prompt: (task.meta.prompt as string | undefined) ?? task.request.prompt,
      size: task.meta.size,
      quality: task.meta.quality,
      created: Math.floor(task.createdAt / 1000),
      data: task.outputs.map((output, index) => ({
        url: urls[index],
        ...(output.sourceUrl ? { source_url: output.sourceUrl } : {}),
        sha256: output.sha256,
        bytes: output.bytes,
      })),
    },
  };
  return {
    status: 200,
    body: {
      success: true,
      data: { task_id: task.id, status, result, ...(video ? { video_url: first } : { image_url: first }) },
      message: "task completed",
    },
  };
}

/** Seed 002's task record. */
export function taskView(task: StoredTask, baseUrl: string) {
  return {
    task_id: task.id,
    user_id: task.userId,
    type: task.request.kind === "video" ? "video" : "image",
    kind: task.request.kind,
    status: statusWord(task),
    progress: task.progress,
    model: task.request.model,
    prompt: task.request.prompt,
    upstream_task_id: task.ref?.taskId ?? null,
    urls: fileUrls(task, baseUrl),
    error: task.error ?? null,
    batch_id: task.batchId ?? null,
    created_at: new Date(task.createdAt).toISOString(),
    updated_at: new Date(task.updatedAt).toISOString(),
  };
}

/** Seed 003's task inside a batch. */
export function batchTaskView(task: StoredTask, baseUrl: string) {
  const status = statusWord(task);
  return {
    taskId: task.id,
    prompt: task.request.prompt,
    status,
    progress: task.progress,
    result:
      status === "completed"
        ? { imageUrl: fileUrls(task, baseUrl)[0] ?? "", requestId: task.ref?.taskId ?? "" }
        : null,
    error: task.error?.message ?? null,
    createdAt: task.createdAt,
  };
}

/** Seed 003's batch summary: `completed` once every task ended (well or not). */
export function batchSummary(batch: StoredBatch, tasks: readonly StoredTask[]) {
  const completedTasks = tasks.filter((task) => task.status === "completed").length;
  const failedTasks = tasks.filter((task) => task.status === "failed" || task.status === "cancelled").length;
  const started = tasks.some((task) => task.status !== "pending");
  const status =
    completedTasks + failedTasks === tasks.length ? "completed" : started ? "processing" : "pending";
  return {
    batchId: batch.id,
    totalTasks: batch.total,
    completedTasks,
    failedTasks,
    status,
    createdAt: batch.createdAt,
    updatedAt: Math.max(batch.createdAt, ...tasks.map((task) => task.updatedAt)),
  };
}

export function batchView(batch: StoredBatch, tasks: readonly StoredTask[], baseUrl: string) {
  const summary = batchSummary(batch, tasks);
  return {
    batchId: batch.id,
    username: batch.userId,
    tasks: tasks.map((task) => batchTaskView(task, baseUrl)),
    totalTasks: summary.totalTasks,
    completedTasks: summary.completedTasks,
    failedTasks: summary.failedTasks,
    status: summary.status,
    createdAt: summary.createdAt,
    updatedAt: summary.updatedAt,
  };
}
