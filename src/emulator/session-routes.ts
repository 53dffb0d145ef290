/**
 * The emulator's session half: a jimeng-api server (iptag) with the jackystd history_id
 * async extension, on top of the emulator core's task clock, outputs and faults.
 *
 * Deliberately independent of src/providers/session (its own model and region tables), so that the client
 * is tested against a second reading of the spec rather than against itself.
 *
 * Conventions reproduced: every error is HTTP 200 `{code, message, data:null}`; unknown routes answer -1000;
 * the `Authorization: Bearer` header may hold several comma-separated tokens (the emulator uses the first,
 * where the real server picks one at random); `[proxy@][us-|hk-|jp-|sg-]id` tokens.
 *
 * Test levers: a session id starting with `expired-` answers -2002; a prompt holding `[reject:CODE]` is
 * refused at submit with that negative code; `[fail:CODE]` (core) fails the task with that fail_code;
 * `[partial]` ends an image task with status 30 and 2 of its 4 images; `[done:50]` makes the split query
 * style report 50 instead of 10 for a finished task (without a marker it does so for every other task).
 *
 * Faults: `server-error` renders as HTTP 200 code -1000 — jimeng-api's error middleware turns every
 * exception into that, and a reverse proxy in front only changes it when the Node process itself is down;
 * `throttle-*` as -2001 with a rate-limit message (an upstream refusal); `reset` drops the connection.
 */
import { MultipartError, parseMultipart } from "./multipart.js";
import {
  type EmulatorCore,
  type EmulatorReply,
  type EmulatorRequest,
  type EmulatorTask,
  GARBAGE_REPLY,
  type RouteHandler,
} from "./types.js";

type Region = "cn" | "us" | "hk" | "jp" | "sg";
type Kind = "image" | "compose" | "video";

const CN: Region[] = ["cn"];
const ALL: Region[] = ["cn", "us", "hk", "jp", "sg"];
const NOT_US: Region[] = ["cn", "hk", "jp", "sg"];
const INTL: Region[] = ["us", "hk", "jp", "sg"];
const HK_JP_SG: Region[] = ["hk", "jp", "sg"];

const IMAGE_MODEL_REGIONS: Record<string, Region[]> = {
  "jimeng-5.0": NOT_US,
  "jimeng-4.6": NOT_US,
  "jimeng-4.5": ALL,
  "jimeng-4.1": ALL,
  "jimeng-4.0": ALL,
  "jimeng-3.1": CN,
  "jimeng-3.0": ALL,
  nanobanana: INTL,
  nanobananapro: INTL,
};

const VIDEO_MODEL_REGIONS: Record<string, Region[]> = {
  "jimeng-video-seedance-2.0": CN,
  "jimeng-video-seedance-2.0-fast": CN,
  "jimeng-video-3.5-pro": ALL,
  "jimeng-video-3.0-pro": NOT_US,
  "jimeng-video-3.0": ALL,
  "jimeng-video-3.0-fast": NOT_US,
  "jimeng-video-2.0-pro": NOT_US,
  "jimeng-video-2.0": NOT_US,
  "jimeng-video-veo3": HK_JP_SG,
  "jimeng-video-veo3.1": HK_JP_SG,
  "jimeng-video-sora2": HK_JP_SG,
};

const IMAGE_RATIOS = new Set(["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"]);
const ASYNC_DURATIONS = [4, 5, 8, 10, 12];

/** Durations the blocking video route accepts per model. */
function videoDurations(model: string): number[] {
  if (model.includes("veo3")) return [8];
  if (model.includes("sora2")) return [4, 8, 12];
  if (model.includes("3.5-pro")) return [5, 10, 12];
  if (model.includes("seedance-2.0")) return [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  return [5, 10];
}

const UNKNOWN_TASK = Symbol("unknown task");

interface Session {
  token: string;
  /** Without proxy and region prefixes: what identifies the account. */
  id: string;
  region: Region;
}

interface ParsedBody {
  fields: Record<string, unknown>;
  files: { field: string; filename: string; bytes: number }[];
  multipart: boolean;
}

function envelope(code: number, message: string): EmulatorReply {
  return { status: 200, json: { code, message, data: null } };
}

function unknownRoute(request: EmulatorRequest): EmulatorReply {
  return envelope(
    -1000,
    `[请求有误]: 请检查API文档确认正确的请求路径，当前请求为 ${request.method} -> ${request.url.pathname} 请纠正`,
  );
}

const REJECT_MESSAGES: Record<number, string> = {
  [-1000]: "[系统错误]: emulated server failure",
  [-2000]: "Params body invalid",
  [-2001]: "[请求失败]: emulated upstream failure (错误码: 4013)",
  [-2002]: "[登录失效]: check login error (ret=1015)",
  [-2006]: "[内容违规]: 内容不符合规范 (ret=4001)",
  [-2007]: "图像生成失败 (emulated)",
  [-2008]: "视频生成失败 (emulated)",
  [-2009]: "[积分不足]: credit prededuct not enough。建议：领取每日积分或降低分辨率",
};

function parseSession(raw: string): Session {
  const token = raw.trim();
  let rest = token;
  if (/^(https?|socks[45]?):\/\//i.test(rest) && rest.lastIndexOf("@") > 0) {
    rest = rest.slice(rest.lastIndexOf("@") + 1);
  }
  const match = /^(us|hk|jp|sg)-/i.exec(rest);
  return {
    token,
    id: match ? rest.slice(3) : rest,
    region: (match?.[1]?.toLowerCase() ?? "cn") as Region,
  };
}

function configuredIds(core: EmulatorCore): string[] {
  return core.credentials.sessionId
    .split(",")
    .map((id) => parseSession(id).id)
    .filter(Boolean);
}

function isValidSession(session: Session, core: EmulatorCore): boolean {
  return !session.id.startsWith("expired-") && configuredIds(core).includes(session.id);
}

function bearerTokens(request: EmulatorRequest): string[] {
  const header = request.headers.authorization ?? "";
  return header
    .replace(/^Bearer\s+/i, "")
    .split(",")
    .map((token) => token.trim())
    .filter(Boolean);
}

/** The request's session, or the error answer. */
function authenticate(request: EmulatorRequest, core: EmulatorCore): Session | EmulatorReply {
  const [first] = bearerTokens(request);
  if (!first) return envelope(-2000, "Params headers.authorization invalid");
  const session = parseSession(first);
  if (!isValidSession(session, core)) return envelope(-2002, REJECT_MESSAGES[-2002] as string);
  return session;
}

function parseBody(request: EmulatorRequest): ParsedBody | EmulatorReply {
  const type = request.headers["content-type"] ?? "";
  if (/^multipart\/form-data/i.test(type)) {
    try {
      const form = parseMultipart(request.body, type);
      const fields: Record<string, unknown> = {};
      for (const [name, values] of Object.entries(form.fields)) {
        fields[name] = values.length > 1 ? values : values[0];
      }
      return {
        fields,
        files: form.files.map((file) => ({
          field: file.name,
          filename: file.filename ?? "",
          bytes: file.data.length,
        })),
        multipart: true,
      };
    } catch (error) {
      if (error instanceof MultipartError) return envelope(-1000, `无效的 multipart 请求: ${error.message}`);
      throw error;
    }
  }
  const text = request.body.toString("utf8").trim();
  if (text === "") return { fields: {}, files: [], multipart: false };
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      return envelope(-1000, "无效的JSON格式: 请求体必须是对象");
    }
    return { fields: json as Record<string, unknown>, files: [], multipart: false };
  } catch (error) {
    return envelope(-1000, `无效的JSON格式: ${(error as Error).message}`);
  }
}

interface Submission {
  kind: Kind;
  model: string;
  prompt: string;
  responseFormat: string;
  inputImages: number;
}

/** The server's validation of a generation body, or the error answer. */
function validate(
  kind: Kind,
  route: "sync" | "async",
  body: ParsedBody,
  session: Session,
): Submission | EmulatorReply {
  const f = body.fields;
  if (typeof f.prompt !== "string" || f.prompt.trim() === "")
    return envelope(-2000, "Params body.prompt invalid");
  for (const key of ["size", "width", "height"]) {
    if (key in f && kind !== "video") {
      return envelope(-1000, `不支持的参数: ${key}。请使用 ratio 和 resolution 参数控制图像尺寸。`);
    }
  }
  const responseFormat = typeof f.response_format === "string" ? f.response_format : "url";
  if (kind === "video") {
    let model = typeof f.model === "string" ? f.model : "jimeng-video-3.5-pro";
    if (!(model in VIDEO_MODEL_REGIONS)) model = "jimeng-video-3.5-pro"; // silent fallback, as the server does
    if (!VIDEO_MODEL_REGIONS[model]?.includes(session.region)) {
      return envelope(-1000, `当前站点 (${session.region}) 不支持模型 ${model}`);
    }
    const duration = f.duration === undefined ? 5 : Number(f.duration);
    if (!Number.isInteger(duration)) return envelope(-1000, "duration 必须是整数");
    const allowed = videoDurations(model).filter((d) => route === "sync" || ASYNC_DURATIONS.includes(d));
    if (!allowed.includes(duration)) {
      return envelope(-1000, `${model} 不支持 ${duration} 秒，支持: ${allowed.join("/")}`);
    }
    const paths = f.file_paths ?? f.filePaths;
    const urls = Array.isArray(paths) ? paths.length : typeof paths === "string" ? 1 : 0;
    if (body.files.length > 2 || urls > 2) return envelope(-1000, "最多支持2张首尾帧图片");
    const inputImages = body.files.length > 0 ? body.files.length : urls;
    return { kind, model, prompt: f.prompt, responseFormat, inputImages };
  }

  let model = typeof f.model === "string" ? f.model : "jimeng-4.5";
  if (!(model in IMAGE_MODEL_REGIONS)) {
    if (session.region !== "cn") {
      return envelope(
        -1000,
        `不支持的模型 ${model}。支持的模型: ${Object.keys(IMAGE_MODEL_REGIONS).join(", ")}`,
      );
    }
    model = "jimeng-4.5";
  }
  if (!IMAGE_MODEL_REGIONS[model]?.includes(session.region)) {
    return envelope(
      -1000,
      session.region === "cn"
        ? `国内站不支持${model}模型`
        : `当前站点 (${session.region}) 不支持模型 ${model}`,
    );
  }
  if (f.ratio !== undefined && !IMAGE_RATIOS.has(String(f.ratio)))
    return envelope(-1000, `无效的 ratio: ${f.ratio}`);
  if (f.resolution !== undefined && !["1k", "2k", "4k"].includes(String(f.resolution))) {
    return envelope(-1000, `无效的 resolution: ${f.resolution}`);
  }
  let inputImages = 0;
  if (kind === "compose") {
    if (body.multipart) {
      inputImages = body.files.filter((file) => file.field === "images").length;
      if (inputImages === 0) return envelope(-1000, "在form-data中缺少 'images' 字段");
    } else {
      const images = f.images;
      if (!Array.isArray(images) || images.length === 0) return envelope(-2000, "Params body.images invalid");
      const valid = images.every(
        (image) =>
          (typeof image === "string" && image !== "") ||
          (image !== null &&
            typeof image === "object" &&
            typeof (image as { url?: unknown }).url === "string"),
      );
      if (!valid) return envelope(-2000, "Params body.images invalid");
      inputImages = images.length;
    }
    if (inputImages > 10) return envelope(-1000, "最多支持10张输入图片");
  }
  return { kind, model, prompt: f.prompt, responseFormat, inputImages };
}

function rejectMarker(prompt: string): EmulatorReply | undefined {
  const match = /\[reject:(-\d+)\]/.exec(prompt);
  if (!match) return undefined;
  const code = Number(match[1]);
  return envelope(code, REJECT_MESSAGES[code] ?? `emulated rejection ${code}`);
}

function faultReply(kind: ReturnType<EmulatorCore["fault"]>): EmulatorReply | undefined {
  if (kind === undefined) return undefined;
  if (kind === "reset") return { reset: true };
  if (kind === "garbage") return GARBAGE_REPLY;
  if (kind === "server-error") return envelope(-1000, REJECT_MESSAGES[-1000] as string);
  return envelope(-2001, "[请求失败]: 请求过于频繁，rate limited, try again later (错误码: 1310)");
}

/** Everything a create route does before the task exists: auth, body, validation, markers, faults. */
function admit(
  request: EmulatorRequest,
  core: EmulatorCore,
  kind: Kind,
  route: "sync" | "async",
): { session: Session; submission: Submission } | EmulatorReply {
  const session = authenticate(request, core);
  if ("status" in session || "reset" in session) return session;
  const body = parseBody(request);
  if ("status" in body || "reset" in body) return body;
  const submission = validate(kind, route, body, session);
  if ("status" in submission || "reset" in submission) return submission;
  const rejected = rejectMarker(submission.prompt);
  if (rejected) return rejected;
  const fault = faultReply(core.fault("submit", "session"));
  if (fault) return fault;
  return { session, submission };
}

function createTask(core: EmulatorCore, session: Session, submission: Submission): EmulatorTask {
  const output = submission.kind === "video" ? "video" : "image";
  return core.createTask({
    provider: "session",
    model: submission.model,
    output,
    prompt: submission.prompt,
    // Upstream makes 4 images per text-to-image call, 1 per composition, 1 per video.
    outputCount: submission.kind === "image" ? 4 : 1,
    meta: {
      kind: submission.kind,
      account: session.id,
      partial: submission.prompt.includes("[partial]"),
      done50: submission.prompt.includes("[done:50]"),
    },
  });
}

function created(core: EmulatorCore): number {
  return Math.floor(core.now() / 1000);
}

async function blocking(request: EmulatorRequest, core: EmulatorCore, kind: Kind): Promise<EmulatorReply> {
  const admitted = admit(request, core, kind, "sync");
  if ("status" in admitted || "reset" in admitted) return admitted;
  const { session, submission } = admitted;
  const task = createTask(core, session, submission);
  // Timers may fire a hair before the wall clock reaches the end; look again a few times before answering.
  for (let look = 0; look < 5 && !["succeeded", "failed"].includes(core.phase(task)); look++) {
    await core.waitUntilFinished(task);
  }
  const view = statusOf(task, core, "generic");
  if (view.items.length === 0) {
    return kind === "video"
      ? envelope(-2008, `视频生成失败，状态码: 30，错误码: ${view.failCode}`)
      : envelope(-2007, `图像生成失败，状态码: 30，错误码: ${view.failCode}`);
  }
  const data = view.items.map((output, index) => {
    const item: Record<string, unknown> =
      submission.responseFormat === "b64_json"
        ? { b64_json: core.outputBytes(task, index).toString("base64") }
        : { url: output };
    if (kind === "video") item.revised_prompt = submission.prompt;
    return item;
  });
  const json: Record<string, unknown> = { created: created(core), data };
  if (kind === "compose") {
    json.input_images = submission.inputImages;
    json.composition_type = submission.inputImages > 1 ? "multi_image_synthesis" : "image_to_image";
  }
  return { status: 200, json };
}

function asyncCreate(request: EmulatorRequest, core: EmulatorCore, kind: Kind): EmulatorReply {
  const admitted = admit(request, core, kind, "async");
  if ("status" in admitted || "reset" in admitted) return admitted;
  const task = createTask(core, admitted.session, admitted.submission);
  const json: Record<string, unknown> = {
    created: created(core),
    history_id: task.id,
    status: "submitted",
    message: "任务已提交，请使用 history_id 查询任务状态",
  };
  if (kind === "compose") json.input_images = admitted.submission.inputImages;
  return { status: 200, json };
}

interface StatusView {
  status: number;
  failCode: string;
  /** Output URLs upstream has attached so far. */
  items: string[];
}

/** What upstream would report for a task right now. */
function statusOf(task: EmulatorTask, core: EmulatorCore, style: "generic" | "split"): StatusView {
  const phase = core.phase(task);
  if (phase === "queued") return { status: 20, failCode: "", items: [] };
  if (phase === "running") {
    const progress = (core.now() - task.startsAt) / Math.max(1, task.finishesAt - task.startsAt);
    return { status: progress < 0.7 ? 20 : progress < 0.9 ? 42 : 45, failCode: "", items: [] };
  }
  if (phase === "failed") return { status: 30, failCode: String(task.failCode), items: [] };
  const urls = core.outputs(task).map((output) => output.url);
  if (task.meta.partial === true && task.output === "image") {
    return { status: 30, failCode: "2038", items: urls.slice(0, Math.max(1, Math.min(2, urls.length - 1))) };
  }
  const fifty = task.meta.done50 === true || (style === "split" && BigInt(task.id) % 2n === 1n);
  return { status: style === "split" && fifty ? 50 : 10, failCode: "", items: urls };
}

function rawData(task: EmulatorTask, view: StatusView): Record<string, unknown> {
  return {
    status: view.status,
    fail_code: view.failCode,
    item_list: view.items.map((url) =>
      task.output === "video"
        ? { video: { transcoded_video: { origin: { video_url: url } } } }
        : { image: { large_images: [{ image_url: url, width: 2048, height: 2048 }] } },
    ),
    task: { task_id: task.id, status: view.status, finish_time: Math.floor(task.finishesAt / 1000) },
  };
}

/** The task for a query, if the querying account owns it. */
function findTask(core: EmulatorCore, id: string, session: Session): EmulatorTask | typeof UNKNOWN_TASK {
  const task = core.getTask(id);
  if (task?.provider !== "session" || task.meta.account !== session.id) return UNKNOWN_TASK;
  return task;
}

function queryPrelude(
  request: EmulatorRequest,
  core: EmulatorCore,
  id: string | undefined,
): { session: Session; task: EmulatorTask | typeof UNKNOWN_TASK; id: string } | EmulatorReply {
  const session = authenticate(request, core);
  if ("status" in session || "reset" in session) return session;
  if (!id) return envelope(-2000, "Params body.history_id invalid");
  const fault = faultReply(core.fault("poll", "session"));
  if (fault) return fault;
  const task = findTask(core, id, session);
  if (task !== UNKNOWN_TASK) core.countPoll(task);
  return { session, task, id };
}

function genericQuery(request: EmulatorRequest, core: EmulatorCore, id: string | undefined): EmulatorReply {
  const prelude = queryPrelude(request, core, id);
  if ("status" in prelude || "reset" in prelude) return prelude;
  const { task } = prelude;
  if (task === UNKNOWN_TASK) return envelope(-2007, `任务不存在: ${prelude.id}`);
  const view = statusOf(task, core, "generic");
  const taskType = view.items.length === 0 ? "unknown" : task.output;
  return {
    status: 200,
    json: {
      history_id: task.id,
      task_type: taskType,
      status: view.status,
      fail_code: view.failCode,
      item_count: view.items.length,
      // The first query version fills results only at status 10 (first video URL, or all image URLs).
      results:
        view.status === 10
          ? (task.output === "video" ? view.items.slice(0, 1) : view.items).map((url) => ({ url }))
          : null,
      raw_data: rawData(task, view),
    },
  };
}

function splitQuery(
  request: EmulatorRequest,
  core: EmulatorCore,
  id: string,
  output: "image" | "video",
): EmulatorReply {
  const prelude = queryPrelude(request, core, id);
  if ("status" in prelude || "reset" in prelude) return prelude;
  const { task } = prelude;
  if (output === "video") {
    if (task === UNKNOWN_TASK) {
      // Upstream is eventually consistent for videos: an unknown id reads as still processing.
      return {
        status: 200,
        json: {
          history_id: id,
          task_type: "video",
          status: 20,
          fail_code: 0,
          video_url: null,
          finish_time: 0,
          raw_data: null,
        },
      };
    }
    const view = statusOf(task, core, "split");
    const url = task.output === "video" ? (view.items[0] ?? null) : null;
    return {
      status: 200,
      json: {
        history_id: task.id,
        task_type: "video",
        status: view.status,
        fail_code: view.failCode === "" ? 0 : view.failCode,
        video_url: url,
        finish_time: url ? Math.floor(task.finishesAt / 1000) : 0,
        raw_data: rawData(task, view),
      },
    };
  }
  if (task === UNKNOWN_TASK) return envelope(-2007, `记录不存在: ${id}`);
  const view = statusOf(task, core, "split");
  const images = task.output === "image" ? view.items : [];
  return {
    status: 200,
    json: {
      history_id: task.id,
      task_type: "image",
      status: view.status,
      fail_code: view.failCode,
      item_count: images.length,
      // Filled whenever items carry image data (status 50 and partial 30 included).
      results: images.map((url) => ({ url, png: url, webp: null, webp_long: null })),
      raw_data: rawData(task, view),
    },
  };
}

function tokenCheck(request: EmulatorRequest, core: EmulatorCore): EmulatorReply {
  const body = parseBody(request);
  if ("status" in body || "reset" in body) return body;
  const token = body.fields.token;
  if (typeof token !== "string" || token === "") return envelope(-2000, "Params body.token invalid");
  const session = parseSession(token);
  // International tokens always read false: the passport path answers 404 on those hosts (issue #78).
  return { status: 200, json: { live: session.region === "cn" && isValidSession(session, core) } };
}

function tokenPoints(request: EmulatorRequest, core: EmulatorCore): EmulatorReply {
  const tokens = bearerTokens(request);
  if (tokens.length === 0) return envelope(-2000, "Params headers.authorization invalid");
  const rows: unknown[] = [];
  for (const token of tokens) {
    const session = parseSession(token);
    // One bad token fails the whole request, as on the server.
    if (!isValidSession(session, core)) return envelope(-2002, REJECT_MESSAGES[-2002] as string);
    rows.push({ token, points: { giftCredit: 60, purchaseCredit: 0, vipCredit: 10, totalCredit: 70 } });
  }
  return { status: 200, json: rows };
}

function serviceInfo(): EmulatorReply {
  return {
    status: 200,
    json: {
      service: "jimeng-api",
      status: "running",
      version: "1.6.3",
      description:
        "The jimeng emulator (session half): jimeng-api routes with the history_id async extension",
      documentation: "https://github.com/iptag/jimeng-api",
      endpoints: {
        images: "/v1/images/generations",
        compositions: "/v1/images/compositions",
        videos: "/v1/videos/generations",
        models: "/v1/models",
        health: "/ping",
      },
    },
  };
}

function historyIdFromBody(request: EmulatorRequest): string | undefined {
  try {
    const json = JSON.parse(request.body.toString("utf8")) as { history_id?: unknown };
    return typeof json.history_id === "string" || typeof json.history_id === "number"
      ? String(json.history_id)
      : undefined;
  } catch {
    return undefined;
  }
}

const SYNC_ROUTES: Record<string, Kind> = {
  "/v1/images/generations": "image",
  "/v1/images/compositions": "compose",
  "/v1/videos/generations": "video",
};

const ASYNC_ROUTES: Record<string, Kind> = {
  "/v1/async/images/generations": "image",
  "/v1/async/images/compositions": "compose",
  "/v1/async/videos/generations": "video",
};

export const sessionRoutes: RouteHandler = (request, core) => {
  const path = request.url.pathname.replace(/\/+$/, "") || "/";
  const method = request.method.toUpperCase();

  if (method === "GET" && path === "/ping") return { status: 200, body: "pong", contentType: "text/plain" };
  // POST / with ?Action=… belongs to the visual half.
  if (method === "GET" && path === "/" && !request.url.searchParams.has("Action")) return serviceInfo();
  if (method === "GET" && path === "/v1/models") {
    return {
      status: 200,
      json: {
        data: Object.keys(VIDEO_MODEL_REGIONS).map((id) => ({ id, object: "model", owned_by: "jimeng-api" })),
      },
    };
  }
  if (!path.startsWith("/v1/") && !path.startsWith("/token/")) return undefined;

  const style = core.options.sessionQueryStyle;
  const generic = style === "generic" || style === "both";
  const split = style === "split" || style === "both";

  if (method === "POST") {
    const sync = SYNC_ROUTES[path];
    if (sync) return blocking(request, core, sync);
    const asyncKind = ASYNC_ROUTES[path];
    if (asyncKind) return asyncCreate(request, core, asyncKind);
    if (path === "/v1/async/tasks/query" && generic)
      return genericQuery(request, core, historyIdFromBody(request));
    if (path === "/token/check") return tokenCheck(request, core);
    if (path === "/token/points") return tokenPoints(request, core);
  }
  if (method === "GET") {
    const match = /^\/v1\/async\/(?:(images|videos)\/)?tasks\/([^/]+)$/.exec(path);
    if (match) {
      const id = decodeURIComponent(match[2] as string);
      if (match[1] === undefined && generic) return genericQuery(request, core, id);
      if (match[1] !== undefined && split)
        return splitQuery(request, core, id, match[1] === "videos" ? "video" : "image");
    }
  }
  return unknownRoute(request);
};
