/**
 * Seeds 000 and 002's task routes (image task, result, generic tasks, a user's tasks) plus video tasks,
 * cancel, live progress (server-sent events) and the service's copies of the outputs.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { FINAL_STATUSES, type StoredTask } from "../../queue/store.js";
import { HttpError, notFound } from "../http-error.js";
import { fromGenericBody, fromImageBody, fromVideoBody, type MappedRequest } from "../requests.js";
import type { Caller, RouteCall } from "../routing.js";
import { checkActingFor } from "../routing.js";
import { genericTaskBody, imageTaskBody, taskListQuery, videoTaskBody } from "../schemas.js";
import type { ServerContext } from "../server.js";
import { createdView, resultView, statusWord, taskView } from "../views.js";

function encodeCursor(seq: number): string {
  return Buffer.from(`t${seq}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^t(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new HttpError(400, "invalid request", "cursor: is not a cursor this server gave out");
  return Number(match[1]);
}

export function registerTaskRoutes(context: ServerContext): void {
  const { route, service, baseUrl } = context;

  const create = async (
    call: RouteCall<unknown, unknown>,
    userId: string | undefined,
    mapped: MappedRequest,
    origin: StoredTask["origin"],
  ) => {
    const user = service.targetUser(call.caller, checkActingFor(call.caller, userId));
    const { tasks } = await service.createTasks(user, [{ origin, ...mapped }]);
    const task = tasks[0] as StoredTask;
    call.reply.code(201);
    return createdView(task, task.id);
  };

  route(
    {
      method: "POST",
      url: "/api/v1/ai/image/task",
      summary: "create an image task (with images: compose); answers 201 with its task_id once it is stored",
      tag: "tasks",
      body: imageTaskBody,
      successStatus: 201,
      responses: { 400: "a field is invalid", 429: "a quota is used up" },
    },
    (call) => create(call, call.body.user_id, fromImageBody(service.provider, call.body), "image"),
  );

  route(
    {
      method: "POST",
      url: "/api/v1/ai/video/task",
      summary: "create a video task (images: first frame, last frame)",
      tag: "tasks",
      body: videoTaskBody,
      successStatus: 201,
    },
    (call) => create(call, call.body.user_id, fromVideoBody(service.provider, call.body), "video"),
  );

  route(
    {
      method: "POST",
      url: "/api/v1/ai/tasks",
      summary: "create a task of any kind (seed 002): type image or video",
      tag: "tasks",
      body: genericTaskBody,
      successStatus: 201,
    },
    (call) => create(call, call.body.user_id, fromGenericBody(service.provider, call.body), "generic"),
  );

  const result = (call: RouteCall<unknown, unknown>) => {
    const task = service.visibleTask(call.caller, call.params.task_id ?? "");
    const view = resultView(task, baseUrl(call.request));
    call.reply.code(view.status);
    return view.body;
  };
  for (const kind of ["image", "video"] as const) {
    route(
      {
        method: "GET",
        url: `/api/v1/ai/${kind}/result/:task_id`,
        summary: `a task's result: 202 while pending or processing, 200 completed (with ${kind}_url), 500 failed`,
        tag: "tasks",
        responses: { 202: "still running", 404: "no such task for this key", 500: "the task failed" },
      },
      result,
    );
  }

  route(
    { method: "GET", url: "/api/v1/tasks/:id", summary: "a task's record (seed 002)", tag: "tasks" },
    (call) => ({
      success: true,
      data: taskView(service.visibleTask(call.caller, call.params.id ?? ""), baseUrl(call.request)),
    }),
  );

  route(
    {
      method: "GET",
      url: "/api/v1/tasks/user/:user_id",
      summary:
        "a user's tasks, newest first; ?limit (≤ 100), ?cursor (next_cursor of the previous page), ?status",
      tag: "tasks",
      query: taskListQuery,
    },
    (call) => {
      const userId = call.params.user_id ?? "";
      if (userId !== call.caller.user.id && !call.caller.user.admin) {
        throw new HttpError(403, "forbidden", `user ${userId} is not the user of this API key`);
      }
      const { limit, cursor, status } = call.query;
      const { tasks, lastSeq } = service.store.listTasks(userId, {
        limit,
        ...(cursor ? { after: decodeCursor(cursor) } : {}),
        ...(status ? { status } : {}),
      });
      return {
        success: true,
        data: {
          tasks: tasks.map((task) => taskView(task, baseUrl(call.request))),
          next_cursor: tasks.length === limit && lastSeq !== undefined ? encodeCursor(lastSeq) : null,
        },
      };
    },
  );

  route(
    {
      method: "DELETE",
      url: "/api/v1/tasks/:id",
      summary:
        "cancel a task: a queued one, or a submitted one where the provider can cancel it upstream (credits back)",
      tag: "tasks",
      responses: { 409: "submitted and the provider cannot cancel it (it is paid for), or already finished" },
    },
    (call) => cancel(context, call.caller, call.params.id ?? ""),
  );

  route(
    {
      method: "GET",
      url: "/api/v1/tasks/:id/events",
      summary: "server-sent events: one `status` event per change of the task, until it ends",
      tag: "tasks",
    },
    (call) => streamEvents(context, call),
  );

  route(
    {
      method: "GET",
      url: "/api/v1/files/:task_id/:name",
      summary: "the service's copy of an output (kept after the upstream link expires)",
      tag: "files",
    },
    (call) => {
      const task = service.visibleTask(call.caller, call.params.task_id ?? "");
      const match = /^(\d+)\.[a-z0-9]+$/i.exec(call.params.name ?? "");
      const output = match ? task.outputs[Number(match[1]) - 1] : undefined;
      if (!output || path.extname(output.file) !== path.extname(call.params.name ?? "")) {
        throw notFound(`file ${call.params.name}`);
      }
      call.reply.header("content-type", output.contentType);
      call.reply.header("content-length", String(output.bytes));
      call.reply.header("cache-control", "private, max-age=31536000, immutable");
      return call.reply.send(createReadStream(path.join(service.store.filesDir, output.file)));
    },
  );
}

/**
 * Cancels a task: a queued one here (its credits back); a submitted one upstream where the provider can
 * cancel (its credits back too, nothing was made). Otherwise `409`: a submitted task the provider cannot take
 * back is paid for and finishes; one being submitted right now has no upstream id to cancel yet.
 */
async function cancel(context: ServerContext, caller: Caller, id: string) {
  const { service } = context;
  const task = service.visibleTask(caller, id);
  if (task.status === "pending" && (await service.pool.dequeue(id)))
    return cancelled(context, task, ["pending"]);
  const { provider } = service;
  if (task.status === "processing" && task.ref && provider.cancel) {
    try {
      await provider.cancel(task.ref);
    } catch (error) {
      throw new HttpError(
        409,
        "conflict",
        `task ${id} could not be cancelled upstream: ${error instanceof Error ? error.message : String(error)}`,
        { data: { task_id: id, status: statusWord(task) } },
      );
    }
    return cancelled(context, task, ["processing"]);
  }
  const status = statusWord(task);
  throw new HttpError(
    409,
    "conflict",
    task.status === "processing"
      ? `task ${id} was already submitted upstream and the ${provider.name} provider cannot cancel it; it is paid for and will finish`
      : task.status === "submitting"
        ? `task ${id} is being submitted upstream right now; try again once it is processing`
        : `task ${id} is already ${status}`,
    { data: { task_id: id, status } },
  );
}

/** Records the cancel (credits back) and tells the event streams. */
function cancelled(context: ServerContext, task: StoredTask, from: StoredTask["status"][]) {
  const { service } = context;
  const changed = service.store.transaction(() => {
    if (
      !service.store.updateTask(task.id, from, { status: "cancelled", finishedAt: Date.now(), credits: 0 })
    ) {
      return false;
    }
    if (task.credits > 0) service.store.refund(task.userId, task.credits);
    return true;
  });
  const stored = service.store.getTask(task.id);
  if (!changed || !stored) {
    // It ended meanwhile (the worker finished it while the provider was asked).
    const status = stored ? statusWord(stored) : "unknown";
    throw new HttpError(409, "conflict", `task ${task.id} is already ${status}`, {
      data: { task_id: task.id, status },
    });
  }
  service.pool.emit("change", stored);
  return { success: true, data: { task_id: task.id, status: "cancelled" }, message: "task cancelled" };
}

function streamEvents(context: ServerContext, call: RouteCall<unknown, unknown>): void {
  const { service, baseUrl } = context;
  const task = service.visibleTask(call.caller, call.params.id ?? "");
  const base = baseUrl(call.request);
  const raw = call.reply.raw;
  call.reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let lastSent = "";
  const send = (current: StoredTask): boolean => {
    const data = JSON.stringify(taskView(current, base));
    if (data !== lastSent) {
      lastSent = data;
      raw.write(`event: status\ndata: ${data}\n\n`);
    }
    if (FINAL_STATUSES.includes(current.status)) {
      raw.end();
      return true;
    }
    return false;
  };
  if (send(task)) return;
  const onChange = (changed: StoredTask) => {
    if (changed.id === task.id && send(changed)) stop();
  };
  const stop = () => {
    service.pool.off("change", onChange);
    context.openStreams.delete(stop);
    if (!raw.writableEnded) raw.end();
  };
  service.pool.on("change", onChange);
  context.openStreams.add(stop);
  raw.on("close", stop);
}
