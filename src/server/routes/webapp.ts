/**
 * Seed 003's routes (the backend of a web app): image upload, image-to-image (2 credits, refunded when it
 * fails), batches of up to 10 tasks (1 credit each, all taken at submit, not refunded; a retry charges
 * again), per-task progress, and the caller's credits.
 */
import { sniffImage } from "../../media/sniff.js";
import { FINAL_STATUSES, type StoredTask } from "../../queue/store.js";
import { HttpError, notFound } from "../http-error.js";
import { fromBatchBody, fromImageToImage } from "../requests.js";
import { batchGenerateBody, batchProcessBody, batchStatusQuery, imageToImageBody } from "../schemas.js";
import type { ServerContext } from "../server.js";
import { batchSummary, batchView, fileUrls } from "../views.js";

export const IMAGE_TO_IMAGE_CREDITS = 2;
export const BATCH_TASK_CREDITS = 1;
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const MIME: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

/** Resolves with the task once it ended, or undefined after `timeoutMs` (the task goes on). */
function whenFinished(
  context: ServerContext,
  id: string,
  timeoutMs: number,
): Promise<StoredTask | undefined> {
  const { pool, store } = context.service;
  return new Promise((resolve) => {
    const done = (task: StoredTask | undefined) => {
      clearTimeout(timer);
      pool.off("change", onChange);
      resolve(task);
    };
    const onChange = (task: StoredTask) => {
      if (task.id === id && FINAL_STATUSES.includes(task.status)) done(task);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    timer.unref();
    pool.on("change", onChange);
    const now = store.getTask(id);
    if (now && FINAL_STATUSES.includes(now.status)) done(now);
  });
}

export function registerWebAppRoutes(context: ServerContext): void {
  const { route, service, baseUrl } = context;
  const { store } = service;

  route(
    {
      method: "POST",
      url: "/api/upload-image",
      summary: "multipart field `image` (JPEG, PNG or WebP, ≤ 10 MB) → a data URL for image-to-image",
      tag: "web app",
      responses: { 400: "not an image", 413: "larger than 10 MB" },
    },
    async (call) => {
      if (!call.request.isMultipart()) {
        throw new HttpError(
          400,
          "invalid request",
          "image: send multipart/form-data with a file field named image",
        );
      }
      const file = await call.request.file({ limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
      if (file?.fieldname !== "image") {
        throw new HttpError(
          400,
          "invalid request",
          "image: the multipart body needs a file field named image",
        );
      }
      const bytes = await file.toBuffer();
      const sniffed = sniffImage(bytes);
      if (!sniffed.ok) throw new HttpError(400, "invalid request", `image: ${sniffed.reason}`);
      const type = MIME[sniffed.format] ?? "application/octet-stream";
      return {
        message: "uploaded",
        data_url: `data:${type};base64,${bytes.toString("base64")}`,
        size: bytes.length,
        type,
        width: sniffed.width,
        height: sniffed.height,
      };
    },
  );

  route(
    {
      method: "POST",
      url: "/api/image-to-image",
      summary: "transform input_image by prompt; waits for the result; 2 credits, refunded on failure",
      tag: "web app",
      body: imageToImageBody,
      responses: { 402: "not enough credits", 500: "generation failed (credits refunded)" },
    },
    async (call) => {
      const user = call.caller.user;
      const mapped = fromImageToImage(service.provider, call.body);
      const { tasks } = await service.createTasks(user, [{ origin: "i2i", ...mapped }], {
        creditsEach: IMAGE_TO_IMAGE_CREDITS,
      });
      const created = tasks[0] as StoredTask;
      const finished = await whenFinished(context, created.id, context.options.syncTimeoutMs);
      const credits = store.getUser(user.id)?.credits ?? 0;
      if (!finished) {
        call.reply.code(202);
        return {
          message: "still generating; poll GET /api/v1/ai/image/result/<request_id>",
          request_id: created.id,
          status: "processing",
          credits_remaining: credits,
        };
      }
      if (finished.status !== "completed") {
        throw new HttpError(
          500,
          "image-to-image failed",
          finished.error?.message ?? "the task did not finish",
          {
            request_id: created.id,
            credits_remaining: credits,
          },
        );
      }
      return {
        message: "done",
        request_id: created.id,
        image_url: fileUrls(finished, baseUrl(call.request))[0] ?? "",
        credits_remaining: credits,
      };
    },
  );

  route(
    {
      method: "POST",
      url: "/api/batch/generate",
      summary: "a batch of ≤ 10 tasks: {prompts: [...]} or {prompt, count}; 1 credit per task, taken now",
      tag: "web app",
      body: batchGenerateBody,
      responses: { 402: "not enough credits" },
    },
    async (call) => {
      const user = call.caller.user;
      const mapped = fromBatchBody(service.provider, call.body);
      const created = await service.createTasks(
        user,
        mapped.map((task) => ({ origin: "batch" as const, ...task })),
        { creditsEach: BATCH_TASK_CREDITS, batch: true },
      );
      return {
        message: "batch created",
        batch_id: created.batchId,
        total_tasks: created.tasks.length,
        credits_deducted: created.creditsCharged,
        credits_remaining: created.creditsRemaining ?? 0,
      };
    },
  );

  const ownBatch = (callerId: string, admin: boolean, id: string) => {
    const batch = store.getBatch(id);
    if (!batch || (batch.userId !== callerId && !admin)) throw notFound(`batch ${id}`);
    return batch;
  };

  route(
    {
      method: "GET",
      url: "/api/batch/status",
      summary:
        "a batch with each task's status and progress (0 waiting, 10 received, 30–90 generating, 100 done)",
      tag: "web app",
      query: batchStatusQuery,
    },
    (call) => {
      const batch = ownBatch(call.caller.user.id, call.caller.user.admin, call.query.batch_id);
      return batchView(batch, store.batchTasks(batch.id), baseUrl(call.request));
    },
  );

  route(
    { method: "GET", url: "/api/batch/list", summary: "the caller's batches, newest first", tag: "web app" },
    (call) => ({
      batches: store
        .listBatches(call.caller.user.id)
        .map((batch) => batchSummary(batch, store.batchTasks(batch.id))),
    }),
  );

  route(
    {
      method: "POST",
      url: "/api/batch/process",
      summary: "run one task of a batch again (a retry; charges 1 credit again)",
      tag: "web app",
      body: batchProcessBody,
      responses: { 402: "not enough credits", 409: "the task is still running" },
    },
    (call) => {
      const user = call.caller.user;
      const batch = ownBatch(user.id, user.admin, call.body.batch_id);
      const id = `${batch.id}:${call.body.task_index}`;
      const task = store.getTask(id);
      if (!task) throw notFound(`task ${call.body.task_index} of batch ${batch.id}`);
      if (!FINAL_STATUSES.includes(task.status)) {
        throw new HttpError(409, "conflict", `task ${id} is still ${task.status}; retry it once it ended`);
      }
      const owner = store.getUser(batch.userId);
      const charge = owner && !owner.admin ? BATCH_TASK_CREDITS : 0;
      store.transaction(() => {
        if (charge > 0 && store.charge(batch.userId, charge) === undefined) {
          throw new HttpError(
            402,
            "insufficient credits",
            `a retry needs ${charge} credit; the balance is ${owner?.credits ?? 0}`,
          );
        }
        store.requeueTask(id, charge);
      });
      service.pool.enqueue(id);
      return {
        message: "task queued again",
        batch_id: batch.id,
        task_index: call.body.task_index,
        credits_deducted: charge,
        credits_remaining: store.getUser(batch.userId)?.credits ?? 0,
      };
    },
  );

  route(
    { method: "GET", url: "/api/credits", summary: "the caller's credit balance", tag: "web app" },
    (call) => ({ credits: store.getUser(call.caller.user.id)?.credits ?? 0 }),
  );
}
