/**
 * The Visual API half of the emulator: `POST /?Action=…&Version=2022-08-31`, signature checked like the
 * gateway does (its `ResponseMetadata.Error` shape and HTTP status), bodies validated by the registry's native schemas
 * (50215-style envelope naming the field), tasks on the core's clock, faults rendered as the real API's codes.
 *
 * Prompt markers: `[reject:CODE]` fails the submit with that code's envelope and HTTP status (the documented business codes);
 * `[fail:CODE]` (handled by the core) makes the task fail when polled.
 */
import { randomBytes } from "node:crypto";
import { isProcessOnly, visualModel } from "../providers/visual/catalog.js";
import {
  GATEWAY_ERRORS,
  type GatewayErrorCode,
  parseVisualJson,
  SUCCESS_CODE,
  VISUAL_CODES,
} from "../providers/visual/errors.js";
import { isVisualModelId, VISUAL_SCHEMAS } from "../providers/visual/schemas.js";
import { verifySignature } from "../signing/verify.js";
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

const VERSION = "2022-08-31";
const REGION = "cn-north-1";
const SERVICE = "cv";
const ACTIONS = new Set(["CVSync2AsyncSubmitTask", "CVSync2AsyncGetResult", "CVProcess"]);
const REJECT_MARKER = /\[reject:(\d+)\]/;
const INVALID = 50215;

function requestId(core: EmulatorCore): string {
  const iso = new Date(core.now()).toISOString();
  const stamp = iso.slice(0, 19).replace(/[-:T]/g, "");
  return `${stamp}${randomBytes(9).toString("hex").toUpperCase()}`;
}

function gatewayError(code: GatewayErrorCode, message: string, action: string, id: string): EmulatorReply {
  const { codeN, status } = GATEWAY_ERRORS[code];
  return {
    status,
    json: {
      ResponseMetadata: {
        RequestId: id,
        Action: action,
        Version: VERSION,
        Service: SERVICE,
        Region: REGION,
        Error: { CodeN: codeN, Code: code, Message: message },
      },
    },
  };
}

function envelope(
  status: number,
  code: number,
  message: string,
  id: string,
  data: unknown = null,
): EmulatorReply {
  return {
    status,
    json: { code, data, message, request_id: id, status: code, time_elapsed: "12.345678ms" },
  };
}

function success(data: unknown, id: string): EmulatorReply {
  return envelope(200, SUCCESS_CODE, "Success", id, data);
}

/** The business-code envelope for `code`, with its documented HTTP status (400 when unknown). */
function codeError(code: number, id: string, detail?: string): EmulatorReply {
  const info = VISUAL_CODES[code];
  const message = info?.message ?? "Internal Error";
  return envelope(info?.status ?? 400, code, detail ? `${message} ${detail}` : message, id);
}

function invalid(id: string, detail: string): EmulatorReply {
  return codeError(INVALID, id, `(${detail})`);
}

function renderFault(fault: FaultKind, id: string): EmulatorReply {
  switch (fault) {
    case "server-error":
      return codeError(50500, id);
    case "throttle-qps":
      return codeError(50429, id);
    case "throttle-concurrency":
      return codeError(50430, id);
    case "reset":
      return { reset: true };
    case "garbage":
      return GARBAGE_REPLY;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates a submit/process body with the model's native schema; returns the parsed body or a reply. */
function validateBody(
  body: Record<string, unknown>,
  id: string,
): { reqKey: string; parsed: Record<string, unknown> } | { reply: EmulatorReply } {
  const reqKey = body.req_key;
  if (typeof reqKey !== "string" || !isVisualModelId(reqKey))
    return { reply: invalid(id, "req_key: unknown req_key") };
  const { req_key: _key, ...rest } = body;
  const result = VISUAL_SCHEMAS[reqKey].safeParse(rest);
  if (!result.success) {
    const detail = issuesFromZod(result.error)
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
      .join("; ");
    return { reply: invalid(id, detail) };
  }
  return { reqKey, parsed: result.data as Record<string, unknown> };
}

function outputCount(reqKey: string, body: Record<string, unknown>): number {
  const model = visualModel(reqKey);
  if (model?.options.includes("count") && body.force_single !== true) return 2;
  return 1;
}

function createTask(core: EmulatorCore, reqKey: string, body: Record<string, unknown>): EmulatorTask {
  const model = visualModel(reqKey);
  return core.createTask({
    provider: "visual",
    model: reqKey,
    output: model?.output ?? "image",
    prompt: typeof body.prompt === "string" ? body.prompt : "",
    outputCount: outputCount(reqKey, body),
    meta: { reqKey },
  });
}

function failure(task: EmulatorTask, id: string): EmulatorReply {
  const code = Number(task.failCode);
  if (Number.isInteger(code)) return codeError(code, id);
  return envelope(500, 50500, `Internal Error (${String(task.failCode)})`, id);
}

function imageData(core: EmulatorCore, task: EmulatorTask, returnUrl: boolean): Record<string, unknown> {
  if (returnUrl)
    return { image_urls: core.outputs(task).map((output) => output.url), binary_data_base64: null };
  const inline: string[] = [];
  for (let index = 0; index < task.outputCount; index++)
    inline.push(core.outputBytes(task, index).toString("base64"));
  return { image_urls: null, binary_data_base64: inline };
}

function submit(body: Record<string, unknown>, core: EmulatorCore, id: string): EmulatorReply {
  const fault = core.fault("submit", "visual");
  if (fault) return renderFault(fault, id);
  const checked = validateBody(body, id);
  if ("reply" in checked) return checked.reply;
  if (isProcessOnly(checked.reqKey))
    return invalid(id, `req_key: ${checked.reqKey} is served by CVProcess only`);
  const reject = REJECT_MARKER.exec(String(checked.parsed.prompt ?? ""))?.[1];
  if (reject !== undefined) return codeError(Number(reject), id);
  const task = createTask(core, checked.reqKey, checked.parsed);
  return success({ task_id: task.id }, id);
}

function getResult(body: Record<string, unknown>, core: EmulatorCore, id: string): EmulatorReply {
  const fault = core.fault("poll", "visual");
  if (fault) return renderFault(fault, id);
  const { req_key: reqKey, task_id: taskId, req_json: reqJson } = body;
  if (typeof reqKey !== "string" || !isVisualModelId(reqKey)) return invalid(id, "req_key: unknown req_key");
  if (typeof taskId !== "string" || !/^\d+$/.test(taskId))
    return invalid(id, "task_id: must be a decimal string");
  let options: Record<string, unknown> = {};
  if (reqJson !== undefined) {
    const parsed = typeof reqJson === "string" ? parseVisualJson(reqJson) : undefined;
    if (!isRecord(parsed)) return invalid(id, "req_json: must be a JSON-serialised object");
    options = parsed;
  }
  const task = core.getTask(taskId);
  if (task?.provider !== "visual") return success({ status: "not_found" }, id);
  if (task.meta.reqKey !== reqKey)
    return invalid(id, "req_key: differs from the one the task was submitted with");
  core.countPoll(task);
  switch (core.phase(task)) {
    case "queued":
      return success({ status: "in_queue" }, id);
    case "running":
      return success({ status: "generating" }, id);
    case "failed":
      return failure(task, id);
    case "succeeded":
      if (task.output === "video") {
        const [video] = core.outputs(task);
        return success({ status: "done", video_url: video?.url ?? "", aigc_meta_tagged: false }, id);
      }
      return success({ status: "done", ...imageData(core, task, options.return_url === true) }, id);
  }
}

async function process(
  body: Record<string, unknown>,
  core: EmulatorCore,
  id: string,
): Promise<EmulatorReply> {
  const fault = core.fault("submit", "visual");
  if (fault) return renderFault(fault, id);
  const checked = validateBody(body, id);
  if ("reply" in checked) return checked.reply;
  if (!isProcessOnly(checked.reqKey))
    return invalid(id, `req_key: ${checked.reqKey} is served by CVSync2AsyncSubmitTask, not CVProcess`);
  const reject = REJECT_MARKER.exec(String(checked.parsed.prompt ?? ""))?.[1];
  if (reject !== undefined) return codeError(Number(reject), id);
  const task = createTask(core, checked.reqKey, checked.parsed);
  await core.waitUntilFinished(task);
  if (core.phase(task) === "failed") return failure(task, id);
  return success(
    {
      ...imageData(core, task, checked.parsed.return_url === true),
      algorithm_base_resp: { status_code: 0, status_message: "Success" },
    },
    id,
  );
}

/** The Visual API route half: undefined for anything that is not `POST /?Action=…`. */
export const visualRoutes: RouteHandler = async (request: EmulatorRequest, core: EmulatorCore) => {
  if (request.method !== "POST" || request.url.pathname !== "/") return undefined;
  const action = request.url.searchParams.get("Action");
  if (action === null) return undefined;
  const id = requestId(core);

  if (!ACTIONS.has(action) || request.url.searchParams.get("Version") !== VERSION)
    return gatewayError("InvalidActionOrVersion", `unknown action or version: ${action}`, action, id);
  const verdict = verifySignature({
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.body,
    credentials: core.credentials,
    // X-Date is the client's wall clock; the core's clock may run faster (timeScale).
    now: Date.now(),
    region: REGION,
    service: SERVICE,
  });
  if (!verdict.ok) return gatewayError(verdict.code, verdict.message, action, id);

  const body = parseVisualJson(request.body.toString("utf8"));
  if (!isRecord(body)) return invalid(id, "the body must be a JSON object");
  switch (action) {
    case "CVSync2AsyncSubmitTask":
      return submit(body, core, id);
    case "CVSync2AsyncGetResult":
      return getResult(body, core, id);
    default:
      return process(body, core, id);
  }
};
