/**
 * The Ark half of the emulator, under `/api/v3` (spec ark-api.md): the synchronous image call (with SSE
 * streaming on 4.x), the video task routes (create, get, list, cancel/delete), the Bearer key check, the
 * catalog's per-model field rules (a field the model does not accept is a 400, as on Ark), the per-account
 * queued-task cap and the documented error codes. Faults and timing come from the core like the other halves.
 *
 * Prompt markers: `[reject:CODE]` refuses the request with that Ark code and its HTTP status; `[fail:CODE]`
 * (the core) makes the generation fail; `[fail-image:N]` fails image N of a set alone; `[cut-stream:N]` drops
 * a streamed answer after N images; `[expire]` makes a video task expire in the queue.
 */
import { randomBytes } from "node:crypto";
import { ENDPOINT_ID, findArkModel } from "../providers/ark/catalog.js";
import { ARK_ERROR_STATUS } from "../providers/ark/errors.js";
import {
  ARK_VIDEO_STATES,
  type ArkImageRequest,
  type ArkVideoRequest,
  type ArkVideoState,
  arkImageRequestSchema,
  arkVideoRequestSchema,
} from "../providers/ark/schemas.js";
import { sseEvent } from "../providers/ark/sse.js";
import { issuesFromZod } from "../validation.js";
import {
  type EmulatorCore,
  type EmulatorReply,
  type EmulatorRequest,
  type EmulatorTask,
  type FaultKind,
  GARBAGE_REPLY,
  type RouteHandler,
} from "./types.js";

const BASE = "/api/v3";
const TASKS = `${BASE}/contents/generations/tasks`;
const REJECT_MARKER = /\[reject:([\w.]+)\]/;
const FAIL_IMAGE_MARKER = /\[fail-image:(\d+)\]/g;
const CUT_STREAM_MARKER = /\[cut-stream:(\d+)\]/;
const EXPIRE_MARKER = /\[expire\]/;
const DEFAULT_SET_SIZE = 4;

function requestId(core: EmulatorCore): string {
  const stamp = new Date(core.now()).toISOString().slice(0, 19).replace(/\D/g, "");
  return `${stamp}${randomBytes(9).toString("hex")}`;
}

function arkError(code: string, message: string, id: string, param?: string): EmulatorReply {
  return {
    status: ARK_ERROR_STATUS[code] ?? 400,
    headers: { "x-request-id": id },
    json: {
      error: {
        code,
        message: `${message} Request id: ${id}`,
        ...(param ? { param } : {}),
        type: (ARK_ERROR_STATUS[code] ?? 400) >= 500 ? "ServerError" : "BadRequest",
      },
    },
  };
}

function ok(json: unknown, id: string, status = 200): EmulatorReply {
  return { status, json, headers: { "x-request-id": id } };
}

function renderFault(fault: FaultKind, id: string): EmulatorReply {
  switch (fault) {
    case "server-error":
      return arkError("InternalServiceError", "The service encountered an unexpected internal error.", id);
    case "throttle-qps":
      return arkError("TooManyRequests", "Too many requests, please retry later.", id);
    case "throttle-concurrency":
      return arkError("TooManyRequests", "The account's concurrent task limit was reached.", id);
    case "reset":
      return { reset: true };
    case "garbage":
      return GARBAGE_REPLY;
  }
}

function authorised(request: EmulatorRequest, core: EmulatorCore): boolean {
  const header = request.headers.authorization ?? "";
  return header === `Bearer ${core.credentials.arkApiKey}`;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The model's record, or an error reply: unknown ids are 404, a field the model does not take is a 400. */
function checkModel(
  model: string,
  body: Record<string, unknown>,
  api: "images" | "videos",
  id: string,
): EmulatorReply | undefined {
  if (ENDPOINT_ID.test(model)) return undefined;
  const record = findArkModel(model);
  if (!record || record.api !== api)
    return arkError(
      "InvalidEndpointOrModel.NotFound",
      `The model or endpoint ${model} does not exist or you do not have access to it.`,
      id,
      "model",
    );
  const allowed = new Set<string>(["model", "prompt", "content", ...record.fields]);
  for (const key of Object.keys(body)) {
    if (!allowed.has(key))
      return arkError(
        "InvalidParameter",
        `The parameter \`${key}\` specified in the request is not valid for model ${model}.`,
        id,
        key,
      );
  }
  return undefined;
}

function validate<T>(
  schema: {
    safeParse(input: unknown): { success: true; data: T } | { success: false; error: import("zod").ZodError };
  },
  json: unknown,
  id: string,
): { data: T } | { reply: EmulatorReply } {
  const result = schema.safeParse(json);
  if (result.success) return { data: result.data };
  const [issue] = issuesFromZod(result.error);
  const missing = issue?.message.toLowerCase().includes("required");
  return {
    reply: arkError(
      missing ? "MissingParameter" : "InvalidParameter",
      `The parameter \`${issue?.path ?? ""}\` specified in the request is not valid: ${issue?.message ?? "invalid"}.`,
      id,
      issue?.path,
    ),
  };
}

function rejected(prompt: string, id: string): EmulatorReply | undefined {
  const code = REJECT_MARKER.exec(prompt)?.[1];
  return code ? arkError(code, `The request was rejected (${code}).`, id) : undefined;
}

function sizeOf(body: ArkImageRequest): string {
  if (body.size && /^\d+x\d+$/.test(body.size)) return body.size;
  return body.size === "4K" ? "4096x4096" : body.size === "1K" ? "1024x1024" : "2048x2048";
}

function failedImages(prompt: string): Set<number> {
  return new Set([...prompt.matchAll(FAIL_IMAGE_MARKER)].map((match) => Number(match[1])));
}

function imageItem(core: EmulatorCore, task: EmulatorTask, index: number, body: ArkImageRequest) {
  if (failedImages(task.prompt).has(index))
    return {
      error: {
        code: "OutputImageSensitiveContentDetected",
        message: "The generated image may contain sensitive content.",
      },
    };
  const size = sizeOf(body);
  if (body.response_format === "b64_json")
    return { b64_json: core.outputBytes(task, index).toString("base64"), size };
  return { url: core.outputs(task)[index]?.url ?? "", size };
}

async function generateImages(
  request: EmulatorRequest,
  core: EmulatorCore,
  id: string,
): Promise<EmulatorReply> {
  const json = parseJson(request.body);
  const checked = validate<ArkImageRequest>(arkImageRequestSchema, json, id);
  if ("reply" in checked) return checked.reply;
  const body = checked.data;
  const invalid = checkModel(body.model, json as Record<string, unknown>, "images", id);
  if (invalid) return invalid;
  const fault = core.fault("submit", "ark");
  if (fault) return renderFault(fault, id);
  const reject = rejected(body.prompt, id);
  if (reject) return reject;
  const count =
    body.sequential_image_generation === "auto"
      ? (body.sequential_image_generation_options?.max_images ?? DEFAULT_SET_SIZE)
      : 1;
  const task = core.createTask({
    provider: "ark",
    model: body.model,
    output: "image",
    prompt: body.prompt,
    outputCount: count,
    meta: { api: "images" },
  });
  const created = Math.floor(core.now() / 1000);
  const duration = Math.max(0, task.finishesAt - task.createdAt);
  if (body.stream === true) {
    // Ark sends its headers only once the first image is ready.
    await core.waitFor(duration / count);
    if (task.failCode !== undefined) return arkError(String(task.failCode), "The generation failed.", id);
    const cutAfter = Number(CUT_STREAM_MARKER.exec(body.prompt)?.[1] ?? Number.POSITIVE_INFINITY);
    return {
      status: 200,
      contentType: "text/event-stream",
      headers: { "x-request-id": id, "cache-control": "no-cache" },
      stream: streamImages(core, task, body, { count, perImageMs: duration / count, cutAfter, created }),
    };
  }
  await core.waitUntilFinished(task);
  if (core.phase(task) === "failed") return arkError(String(task.failCode), "The generation failed.", id);
  const data = Array.from({ length: count }, (_, index) => imageItem(core, task, index, body));
  const made = data.filter((item) => !("error" in item)).length;
  return ok(
    {
      model: body.model,
      created,
      data,
      usage: { generated_images: made, output_tokens: made * 16384, total_tokens: made * 16384 },
    },
    id,
  );
}

async function* streamImages(
  core: EmulatorCore,
  task: EmulatorTask,
  body: ArkImageRequest,
  plan: { count: number; perImageMs: number; cutAfter: number; created: number },
): AsyncGenerator<string> {
  let made = 0;
  for (let index = 0; index < plan.count; index++) {
    if (index > 0) await core.waitFor(plan.perImageMs);
    if (index >= plan.cutAfter) throw new Error("stream cut (emulator fault marker)");
    const item = imageItem(core, task, index, body);
    if ("error" in item) {
      const type = "image_generation.partial_failed";
      yield sseEvent(type, {
        type,
        model: body.model,
        created: plan.created,
        image_index: index,
        error: item.error,
      });
      continue;
    }
    made++;
    const type = "image_generation.partial_succeeded";
    yield sseEvent(type, { type, model: body.model, created: plan.created, image_index: index, ...item });
  }
  const type = "image_generation.completed";
  yield sseEvent(type, {
    type,
    model: body.model,
    created: plan.created,
    usage: { generated_images: made, output_tokens: made * 16384, total_tokens: made * 16384 },
  });
  yield "data: [DONE]\n\n";
}

/** A video task's Ark status: cancelled and expired come from the task's meta, the rest from the clock. */
function videoState(core: EmulatorCore, task: EmulatorTask): ArkVideoState {
  if (task.meta.cancelled === true) return "cancelled";
  const phase = core.phase(task);
  if (task.meta.expires === true && phase !== "queued") return "expired";
  return phase;
}

function taskJson(core: EmulatorCore, task: EmulatorTask): Record<string, unknown> {
  const status = videoState(core, task);
  const body = (task.meta.body ?? {}) as Partial<ArkVideoRequest>;
  const json: Record<string, unknown> = {
    id: task.id,
    model: task.model,
    status,
    created_at: Math.floor(task.createdAt / 1000),
    updated_at: Math.floor(Math.min(core.now(), task.finishesAt) / 1000),
    ratio: body.ratio ?? "16:9",
    resolution: body.resolution ?? "720p",
    duration: body.duration ?? 5,
    seed: body.seed ?? 42,
  };
  if (status === "succeeded") {
    json.content = { video_url: core.outputs(task)[0]?.url ?? "" };
    json.usage = { completion_tokens: 108900, total_tokens: 108900 };
  }
  if (status === "failed") json.error = { code: String(task.failCode), message: "The generation failed." };
  if (status === "expired") json.error = { code: "TaskExpired", message: "The task expired before it ran." };
  return json;
}

function videoTasks(core: EmulatorCore): EmulatorTask[] {
  return core.tasksOf("ark").filter((task) => task.meta.api === "videos" && task.meta.deleted !== true);
}

function createVideo(request: EmulatorRequest, core: EmulatorCore, id: string): EmulatorReply {
  const json = parseJson(request.body);
  const checked = validate<ArkVideoRequest>(arkVideoRequestSchema, json, id);
  if ("reply" in checked) return checked.reply;
  const body = checked.data;
  const invalid = checkModel(body.model, json as Record<string, unknown>, "videos", id);
  if (invalid) return invalid;
  const text = body.content.find((item) => item.type === "text");
  if (text?.type !== "text")
    return arkError("MissingParameter", "The content must include a text item.", id, "content");
  const references = body.content.filter(
    (item) => item.type === "image_url" && item.role === "reference_image",
  ).length;
  if (references > 0 && !body.model.includes("lite-i2v") && !ENDPOINT_ID.test(body.model))
    return arkError(
      "InvalidParameter",
      `Model ${body.model} does not support reference images.`,
      id,
      "content",
    );
  const fault = core.fault("submit", "ark");
  if (fault) return renderFault(fault, id);
  const reject = rejected(text.text, id);
  if (reject) return reject;
  const queued = videoTasks(core).filter((task) => videoState(core, task) === "queued").length;
  if (queued >= core.options.arkQueuedTaskCap)
    return arkError(
      "TooManyRequests",
      `The account already has ${queued} queued tasks (limit ${core.options.arkQueuedTaskCap}).`,
      id,
    );
  const task = core.createTask({
    provider: "ark",
    model: body.model,
    output: "video",
    prompt: text.text,
    outputCount: 1,
    meta: {
      api: "videos",
      body: { ratio: body.ratio, resolution: body.resolution, duration: body.duration, seed: body.seed },
      ...(EXPIRE_MARKER.test(text.text) ? { expires: true } : {}),
    },
  });
  return ok({ id: task.id }, id);
}

function getVideo(taskId: string, core: EmulatorCore, id: string): EmulatorReply {
  const fault = core.fault("poll", "ark");
  if (fault) return renderFault(fault, id);
  const task = videoTasks(core).find((candidate) => candidate.id === taskId);
  if (!task) return arkError("ResourceNotFound", `The task ${taskId} does not exist.`, id, "id");
  core.countPoll(task);
  return ok(taskJson(core, task), id);
}

function listVideos(url: URL, core: EmulatorCore, id: string): EmulatorReply {
  const fault = core.fault("poll", "ark");
  if (fault) return renderFault(fault, id);
  const page = Math.max(1, Number(url.searchParams.get("page_num") ?? 1) || 1);
  const size = Math.min(500, Math.max(1, Number(url.searchParams.get("page_size") ?? 10) || 10));
  const status = url.searchParams.get("filter.status");
  if (status !== null && !(ARK_VIDEO_STATES as readonly string[]).includes(status))
    return arkError(
      "InvalidParameter",
      `The parameter \`filter.status\` is not valid: ${status}.`,
      id,
      "filter.status",
    );
  const model = url.searchParams.get("filter.model");
  const ids = url.searchParams.getAll("filter.task_ids");
  const matching = videoTasks(core)
    .reverse()
    .filter(
      (task) =>
        (status === null || videoState(core, task) === status) && (model === null || task.model === model),
    )
    .filter((task) => ids.length === 0 || ids.includes(task.id));
  return ok(
    {
      total: matching.length,
      items: matching.slice((page - 1) * size, page * size).map((task) => taskJson(core, task)),
    },
    id,
  );
}

/** Cancels a queued task, deletes the record of a finished one, refuses a running or cancelled one. */
function deleteVideo(taskId: string, core: EmulatorCore, id: string): EmulatorReply {
  const task = videoTasks(core).find((candidate) => candidate.id === taskId);
  if (!task) return arkError("ResourceNotFound", `The task ${taskId} does not exist.`, id, "id");
  const state = videoState(core, task);
  if (state === "running" || state === "cancelled")
    return arkError(
      "InvalidParameter",
      `The task ${taskId} is ${state}: only queued tasks can be cancelled.`,
      id,
      "id",
    );
  if (state === "queued") task.meta.cancelled = true;
  else task.meta.deleted = true;
  core.save(task);
  return ok({}, id);
}

/** The Ark route half: undefined for anything outside `/api/v3`. */
export const arkRoutes: RouteHandler = async (request: EmulatorRequest, core: EmulatorCore) => {
  const path = request.url.pathname;
  if (path !== BASE && !path.startsWith(`${BASE}/`)) return undefined;
  const id = requestId(core);
  if (!authorised(request, core))
    return arkError("AuthenticationError", "The API key in the request is missing or invalid.", id);
  if (request.method === "POST" && path === `${BASE}/images/generations`)
    return generateImages(request, core, id);
  if (path === TASKS) {
    if (request.method === "POST") return createVideo(request, core, id);
    if (request.method === "GET") return listVideos(request.url, core, id);
  }
  const match = /^\/api\/v3\/contents\/generations\/tasks\/([^/]+)$/.exec(path);
  if (match) {
    const taskId = decodeURIComponent(match[1] as string);
    if (request.method === "GET") return getVideo(taskId, core, id);
    if (request.method === "DELETE") return deleteVideo(taskId, core, id);
  }
  return {
    status: 404,
    json: { error: { code: "NotFound", message: `no route ${request.method} ${path}` } },
    headers: { "x-request-id": id },
  };
};
