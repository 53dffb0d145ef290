/**
 * A typed client for jimeng-api compatible servers (iptag/jimeng-api and the jackystd async fork): the
 * blocking generation routes, the async history_id routes (both query styles), and the token routes.
 *
 * One session id goes with each request (round-robin over several); a session the server reports expired is
 * skipped for the rest of the process. Session ids never appear in errors or debug events.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { FormData } from "undici";
import { ApiError, AuthError, ValidationError } from "../../errors.js";
import {
  type ClientTransportOptions,
  clientTransport,
  DEFAULT_TIMEOUT_MS,
  type HttpMethod,
  type HttpTransport,
  type RawResponse,
  type RetryEvent,
} from "../../http/transport.js";
import type { SessionRegion } from "../types.js";
import { MAX_UPLOAD_BYTES, modelRegions } from "./catalog.js";
import { interpretSession, isUnknownRoute, readEnvelope, SESSION_HINT } from "./mapping.js";
import {
  buildNativeRequest,
  imageSourcesOf,
  type NativeFile,
  type ParsedBody,
  type SessionNativeRequest,
} from "./native.js";
import {
  type ImageCompositionBody,
  type ImageGenerationBody,
  parseRouteBody,
  type SubmitKind,
  schemaFor,
  type VideoGenerationBody,
} from "./schemas.js";
import { type SessionEntry, SessionPool } from "./sessions.js";
import { isLocalPath, toUploadImage, type UploadImage } from "./uploads.js";

export const DEFAULT_SESSION_ENDPOINT = "http://127.0.0.1:5100";

/**
 * Deadlines of the blocking routes, which answer only when generation has finished. The server itself polls
 * upstream for up to 30 min (images) and 60 min (videos) nominally, so the client waits as long by default.
 */
export const DEFAULT_BLOCKING_TIMEOUT_MS = { image: 30 * 60_000, video: 60 * 60_000 } as const;

export interface SessionClientOptions extends ClientTransportOptions {
  /** One session id, several comma-separated, or a list. Region prefixes `us-`/`hk-`/`jp-`/`sg-` and a `proxy@` prefix are understood. */
  sessionId: string | readonly string[];
  /** Default `http://127.0.0.1:5100`. */
  endpoint?: string;
  /** Deadline of quick calls (async submits, queries, token checks), retries included. Default 60 s. */
  timeout?: number;
  /** Deadline of the blocking routes. Default 30 min for images and compositions, 60 min for videos. */
  blockingTimeout?: number;
  /** Which async query routes the server has; `auto` (default) detects it once and remembers. */
  queryStyle?: "auto" | "split" | "generic";
}

export interface SessionCallOptions {
  signal?: AbortSignal;
  /** This call's deadline in ms, retries included. */
  timeout?: number;
}

export type GeneratedItem =
  | { url: string; revised_prompt?: string }
  | { b64_json: string; revised_prompt?: string };

export interface GenerationResult {
  created: number;
  data: GeneratedItem[];
  /** Compositions only. */
  input_images?: number;
  composition_type?: string;
}

export interface SessionSubmitResult {
  historyId: string;
  /** `session #2 (us)`: which session submitted it. */
  session: string;
  /** A short hash of that session (not the session id): pass it to `query` in another process. */
  account: string;
}

export interface QueryOptions extends SessionCallOptions {
  /** Which split route to ask first when this client did not submit the task itself. Default "image". */
  kind?: SubmitKind;
  /** The submitting session's `account` hash, when this client did not submit the task itself. */
  account?: string;
  /** Outputs to keep, when this client did not submit the task itself (a resumed process). */
  count?: number;
}

export interface QueryResult {
  historyId: string;
  taskType: "image" | "video" | "unknown";
  /** The raw upstream status: 20/42/45 running, 10 or 50 done, 30 failed (items may still be present). */
  status: number;
  failCode: string | null;
  /** Output URLs, trimmed to the `count` given at submit (when this client submitted it); null when none yet. */
  results: { url: string }[] | null;
}

export interface SessionCheck {
  session: string;
  account: string;
  region: SessionRegion;
  live: boolean;
  note?: string;
}

export interface SessionPoints {
  session: string;
  account: string;
  region: SessionRegion;
  points?: { gift: number; purchase: number; vip: number; total: number };
  error?: string;
}

interface RememberedTask {
  kind: SubmitKind;
  session: number;
  count?: number;
}

interface SendSpec<T> {
  method: HttpMethod;
  path: string;
  native?: SessionNativeRequest;
  json?: unknown;
  safe: boolean;
  timeout: number;
  signal?: AbortSignal | undefined;
  /** Pin the session (queries of a known task, per-session token calls); otherwise rotate. */
  session?: SessionEntry;
  model?: string;
  auth?: boolean;
  /** Answer "unknown-route" instead of failing when the server has no such route. */
  detectRoute?: boolean;
  onSession?: (entry: SessionEntry) => void;
  read: (json: unknown, text: string) => T | undefined;
}

const MAX_REMEMBERED = 10_000;

const ASYNC_PATHS: Record<SubmitKind, string> = {
  image: "/v1/async/images/generations",
  compose: "/v1/async/images/compositions",
  video: "/v1/async/videos/generations",
};

export class SessionClient {
  readonly images: {
    /** `POST /v1/images/generations`: blocks until the images exist. */
    generate: (body: ImageGenerationBody, options?: SessionCallOptions) => Promise<GenerationResult>;
    /** `POST /v1/images/compositions`: 1–10 images as URLs (JSON) or local files/bytes (multipart). */
    compose: (body: ImageCompositionBody, options?: SessionCallOptions) => Promise<GenerationResult>;
  };
  readonly videos: {
    /** `POST /v1/videos/generations`: blocks until the video exists (minutes). */
    generate: (body: VideoGenerationBody, options?: SessionCallOptions) => Promise<GenerationResult>;
  };
  readonly token: {
    /** `POST /token/check` for every session. International sessions report false on many servers (#78). */
    check: (options?: SessionCallOptions) => Promise<SessionCheck[]>;
    /** `POST /token/points` for every session, one request each. */
    points: (options?: SessionCallOptions) => Promise<SessionPoints[]>;
  };

  private readonly pool: SessionPool;
  private readonly transport: HttpTransport;
  private readonly endpoint: URL;
  private readonly timeoutMs: number;
  private readonly blockingTimeoutMs: number | undefined;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly remembered = new Map<string, RememberedTask>();
  private queryStyle: "split" | "generic" | undefined;

  /** The server's base URL without credentials. */
  get baseUrl(): string {
    return `${this.endpoint.origin}${this.endpoint.pathname}`.replace(/\/+$/, "");
  }

  constructor(options: SessionClientOptions) {
    this.pool = new SessionPool(options.sessionId);
    const endpoint = options.endpoint ?? DEFAULT_SESSION_ENDPOINT;
    try {
      this.endpoint = new URL(endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
    } catch {
      throw new ValidationError([{ path: "endpoint", message: "must be a URL like http://127.0.0.1:5100" }]);
    }
    this.timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.blockingTimeoutMs = options.blockingTimeout;
    this.onRetry = options.onRetry;
    this.queryStyle = options.queryStyle === "auto" ? undefined : options.queryStyle;
    this.transport = clientTransport(options, {
      timeoutMs: this.timeoutMs,
      userAgent: "jimeng-sdk (session)",
    });
    this.images = {
      generate: (body, call) => this.blocking("image", body, call),
      compose: (body, call) => this.blocking("compose", body, call),
    };
    this.videos = { generate: (body, call) => this.blocking("video", body, call) };
    this.token = { check: (call) => this.checkTokens(call), points: (call) => this.tokenPoints(call) };
  }

  /** The sessions, as they may be shown: label, short hash, region, and whether they expired. */
  sessions(): { session: string; account: string; region: SessionRegion; expired: boolean }[] {
    return this.pool.entries.map((entry) => ({
      session: entry.label,
      account: entry.hash,
      region: entry.region,
      expired: this.pool.isExpired(entry),
    }));
  }

  /**
   * Submits through the async routes and returns as soon as the server has a history_id. Not retried once it
   * may have reached the server (it costs credits), except with the next session after a -2002.
   */
  async submit(
    kind: SubmitKind,
    body: ImageGenerationBody | ImageCompositionBody | VideoGenerationBody,
    options: SessionCallOptions = {},
  ): Promise<SessionSubmitResult> {
    const parsed = parseRouteBody(schemaFor(kind, "async"), body) as ParsedBody;
    const native = buildNativeRequest(kind, parsed, await this.uploadImages(parsed));
    return this.submitNative(native, options);
  }

  /** Submits a request already in native form (see `toSessionNativeRequest`); used by SessionProvider. */
  async submitNative(
    native: SessionNativeRequest,
    options: SessionCallOptions = {},
  ): Promise<SessionSubmitResult> {
    let used: SessionEntry | undefined;
    const historyId = await this.send({
      method: "POST",
      path: ASYNC_PATHS[native.kind],
      native,
      safe: false,
      detectRoute: true,
      timeout: options.timeout ?? this.timeoutMs,
      signal: options.signal,
      model: native.model,
      read: (json) => {
        const id = (json as { history_id?: unknown } | null)?.history_id;
        return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
      },
      onSession: (entry: SessionEntry) => {
        used = entry;
      },
    });
    if (historyId === "unknown-route") throw noQueryRoute("submit");
    const entry = used as SessionEntry;
    this.remember(historyId, {
      kind: native.kind,
      session: entry.index,
      ...(native.count !== undefined ? { count: native.count } : {}),
    });
    return { historyId, session: entry.label, account: entry.hash };
  }

  /**
   * One look at an async task. Works with both query styles of the async fork (split
   * `/v1/async/{images,videos}/tasks/:id`, or generic `/v1/async/tasks/:id`): the split route is tried first
   * and the generic one after a "no such route" answer; the answer is remembered for this client.
   */
  async query(historyId: string, options: QueryOptions = {}): Promise<QueryResult> {
    const known = this.remembered.get(historyId);
    const kind = known?.kind ?? options.kind ?? "image";
    const session = this.sessionFor(known, options.account);
    const common = {
      method: "GET" as const,
      safe: true,
      timeout: options.timeout ?? this.timeoutMs,
      signal: options.signal,
      session,
    };
    const id = encodeURIComponent(historyId);
    let result: QueryResult | "unknown-route" | undefined;
    if (this.queryStyle !== "generic") {
      const video = kind === "video";
      result = await this.send({
        ...common,
        detectRoute: true,
        path: video ? `/v1/async/videos/tasks/${id}` : `/v1/async/images/tasks/${id}`,
        read: (json) => readQuery(json, historyId, video ? "video" : "image"),
      });
      if (result !== "unknown-route") this.queryStyle = "split";
      else if (this.queryStyle === "split") throw noQueryRoute("split");
    }
    if (this.queryStyle !== "split") {
      result = await this.send({
        ...common,
        detectRoute: true,
        path: `/v1/async/tasks/${id}`,
        read: (json) => readQuery(json, historyId, "unknown"),
      });
      if (result === "unknown-route") throw noQueryRoute("generic");
      this.queryStyle = "generic";
    }
    const answer = result as QueryResult;
    const keep = known?.count ?? options.count;
    if (keep !== undefined && answer.results) return { ...answer, results: answer.results.slice(0, keep) };
    return answer;
  }

  /** The `count` given when this client submitted `historyId`, if any (in-process memory only). */
  countFor(historyId: string): number | undefined {
    return this.remembered.get(historyId)?.count;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  // -------------------------------------------------------------------------------------------------------

  private async blocking(
    kind: SubmitKind,
    body: unknown,
    options: SessionCallOptions = {},
  ): Promise<GenerationResult> {
    const parsed = parseRouteBody(schemaFor(kind, "sync"), body) as ParsedBody;
    const native = buildNativeRequest(kind, parsed, await this.uploadImages(parsed));
    const path =
      kind === "image"
        ? "/v1/images/generations"
        : kind === "compose"
          ? "/v1/images/compositions"
          : "/v1/videos/generations";
    const timeout =
      options.timeout ??
      this.blockingTimeoutMs ??
      (kind === "video" ? DEFAULT_BLOCKING_TIMEOUT_MS.video : DEFAULT_BLOCKING_TIMEOUT_MS.image);
    const result = await this.send({
      method: "POST",
      path,
      native,
      safe: false,
      timeout,
      signal: options.signal,
      model: native.model,
      read: readGeneration,
    });
    if (native.count !== undefined) return { ...result, data: result.data.slice(0, native.count) };
    return result;
  }

  /** Reads local paths (size checked before reading) and checks every image; URLs pass through. */
  private async uploadImages(parsed: ParsedBody): Promise<UploadImage[]> {
    const sources = imageSourcesOf(parsed);
    const out: UploadImage[] = [];
    for (const [index, source] of sources.entries()) {
      const path = `images.${index}`;
      out.push(toUploadImage(isLocalPath(source) ? await readLocal(source, path) : source, path));
    }
    return out;
  }

  private sessionFor(known: RememberedTask | undefined, account: string | undefined): SessionEntry {
    if (known) return this.pool.entries[known.session] as SessionEntry;
    const byHash = account ? this.pool.byHash(account) : undefined;
    if (byHash) return byHash;
    // Unknown task (another process submitted it): history ids belong to the submitting account, so this
    // only works when that is the first live session.
    const first = this.pool.live()[0] ?? this.pool.entries[0];
    return first as SessionEntry;
  }

  private remember(historyId: string, task: RememberedTask): void {
    if (this.remembered.size >= MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
    this.remembered.set(historyId, task);
  }

  private pick(model: string | undefined): SessionEntry {
    const regions = model ? modelRegions(model) : undefined;
    const entry = this.pool.next((candidate) => !regions || regions.includes(candidate.region));
    if (entry) return entry;
    const live = this.pool.live();
    if (live.length === 0) {
      throw new AuthError(
        `every session has expired (${this.pool.entries.length} of ${this.pool.entries.length} reported -2002)`,
        { provider: "session", httpStatus: 200, code: -2002, hint: SESSION_HINT },
      );
    }
    const have = [...new Set(live.map((e) => e.region))].join(", ");
    throw new ValidationError(
      [
        {
          path: "model",
          message: `${model} is not offered to ${have} sessions; it needs a session from ${(regions ?? []).join(", ")}`,
        },
      ],
      { hint: "add a session of a region that offers the model (prefix us-, hk-, jp- or sg-; none for CN)" },
    );
  }

  private async send<T>(spec: SendSpec<T> & { detectRoute: true }): Promise<T | "unknown-route">;
  private async send<T>(spec: SendSpec<T>): Promise<T>;
  private async send<T>(spec: SendSpec<T>): Promise<T | "unknown-route"> {
    for (;;) {
      const entry = spec.session ?? this.pick(spec.model);
      spec.onSession?.(entry);
      try {
        return await this.sendOnce(spec, entry);
      } catch (error) {
        if (!(error instanceof AuthError) || error.code !== -2002 || spec.session) throw error;
        this.pool.markExpired(entry);
        // -2002 is upstream's login check (ret 1015), which runs before anything is generated or charged,
        // so resending — even a submit — with the next session cannot pay twice.
        let next: SessionEntry;
        try {
          next = this.peekNext(spec.model);
        } catch {
          throw error;
        }
        this.onRetry?.({
          attempt: 0,
          delayMs: 0,
          reason: `${entry.label} expired (-2002); trying ${next.label}`,
          throttled: false,
        });
      }
    }
  }

  /** Whether another session could take the request (throws when none can). */
  private peekNext(model: string | undefined): SessionEntry {
    const regions = model ? modelRegions(model) : undefined;
    const next = this.pool.live().find((candidate) => !regions || regions.includes(candidate.region));
    if (!next) throw new Error("no session left");
    return next;
  }

  private sendOnce<T>(spec: SendSpec<T>, entry: SessionEntry): Promise<T | "unknown-route"> {
    const url = new URL(spec.path.replace(/^\//, ""), this.endpoint);
    const headers: Record<string, string> = { accept: "application/json" };
    if (spec.auth !== false) headers.authorization = `Bearer ${entry.token}`;
    const body = spec.native?.body;
    const context = { session: entry.label, secrets: this.pool.tokens, safe: spec.safe };
    return this.transport.request<T | "unknown-route">({
      method: spec.method,
      url,
      headers,
      ...(body?.type === "json" ? { json: body.json } : {}),
      ...(body?.type === "multipart" ? { form: toFormData(body.fields, body.files) } : {}),
      ...(spec.json !== undefined ? { json: spec.json } : {}),
      safe: spec.safe,
      timeoutMs: spec.timeout,
      ...(spec.signal ? { signal: spec.signal } : {}),
      interpret: (response: RawResponse) => {
        const envelope = readEnvelope(response.json);
        if (spec.detectRoute && ((envelope && isUnknownRoute(envelope)) || response.status === 404)) {
          return { ok: true, value: "unknown-route" };
        }
        return interpretSession<T | "unknown-route">(response, spec.read, context);
      },
    });
  }

  private async checkTokens(options: SessionCallOptions = {}): Promise<SessionCheck[]> {
    const out: SessionCheck[] = [];
    for (const entry of this.pool.entries) {
      const live = await this.send({
        method: "POST",
        path: "/token/check",
        json: { token: entry.token },
        auth: false,
        safe: true,
        session: entry,
        timeout: options.timeout ?? this.timeoutMs,
        signal: options.signal,
        read: (json) => {
          const value = (json as { live?: unknown } | null)?.live;
          return typeof value === "boolean" ? value : undefined;
        },
      });
      out.push({
        session: entry.label,
        account: entry.hash,
        region: entry.region,
        live,
        ...(!live && entry.region !== "cn"
          ? {
              note: "international sessions often report false here (jimeng-api #78); token.points() is a better test",
            }
          : {}),
      });
    }
    return out;
  }

  private async tokenPoints(options: SessionCallOptions = {}): Promise<SessionPoints[]> {
    const out: SessionPoints[] = [];
    for (const entry of this.pool.entries) {
      const row = { session: entry.label, account: entry.hash, region: entry.region };
      try {
        const points = await this.send({
          method: "POST",
          path: "/token/points",
          json: {},
          safe: true,
          session: entry,
          timeout: options.timeout ?? this.timeoutMs,
          signal: options.signal,
          read: readPoints,
        });
        out.push({ ...row, points });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error instanceof AuthError && error.code === -2002) this.pool.markExpired(entry);
        out.push({ ...row, error: error.message });
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------

async function readLocal(path: string, field: string): Promise<{ bytes: Uint8Array; name: string }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new ValidationError([{ path: field, message: `no readable file at ${basename(path)}` }]);
  }
  if (size > MAX_UPLOAD_BYTES) {
    throw new ValidationError([
      {
        path: field,
        message: `${basename(path)} is ${(size / 1024 / 1024).toFixed(1)} MB; jimeng-api accepts at most 100 MB per file`,
      },
    ]);
  }
  return { bytes: await readFile(path), name: basename(path) };
}

function toFormData(fields: [string, string][], files: NativeFile[]): FormData {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) {
    form.append(file.field, new Blob([file.bytes], { type: file.contentType }), file.name);
  }
  return form;
}

function readGeneration(json: unknown): GenerationResult | undefined {
  if (json === null || typeof json !== "object") return undefined;
  const { created, data, input_images, composition_type } = json as Record<string, unknown>;
  if (!Array.isArray(data)) return undefined;
  const items: GeneratedItem[] = [];
  for (const item of data) {
    if (item === null || typeof item !== "object") continue;
    const { url, b64_json, revised_prompt } = item as Record<string, unknown>;
    const extra = typeof revised_prompt === "string" ? { revised_prompt } : {};
    if (typeof url === "string") items.push({ url, ...extra });
    else if (typeof b64_json === "string") items.push({ b64_json, ...extra });
  }
  return {
    created: typeof created === "number" ? created : Math.floor(Date.now() / 1000),
    data: items,
    ...(typeof input_images === "number" ? { input_images } : {}),
    ...(typeof composition_type === "string" ? { composition_type } : {}),
  };
}

function normaliseFailCode(value: unknown): string | null {
  if (value === undefined || value === null || value === "" || value === 0 || value === "0") return null;
  return String(value);
}

function readQuery(
  json: unknown,
  historyId: string,
  expected: QueryResult["taskType"],
): QueryResult | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
  const body = json as Record<string, unknown>;
  if (typeof body.status !== "number") return undefined;
  let urls: string[] = [];
  if (Array.isArray(body.results)) {
    urls = body.results
      .map((r) => (typeof r === "string" ? r : (r as { url?: unknown } | null)?.url))
      .filter((u): u is string => typeof u === "string" && u !== "");
  }
  if (typeof body.video_url === "string" && body.video_url !== "") urls = [body.video_url];
  // The first query version fills `results` only at status 10; partial results (status 30 with items) are
  // still in the raw upstream record.
  if (urls.length === 0) urls = rawItemUrls(body.raw_data);
  const type = body.task_type === "image" || body.task_type === "video" ? body.task_type : expected;
  return {
    historyId: typeof body.history_id === "string" ? body.history_id : historyId,
    taskType: type,
    status: body.status,
    failCode: normaliseFailCode(body.fail_code),
    results: urls.length > 0 ? urls.map((url) => ({ url })) : null,
  };
}

function rawItemUrls(raw: unknown): string[] {
  const list = (raw as { item_list?: unknown } | null | undefined)?.item_list;
  if (!Array.isArray(list)) return [];
  const urls: string[] = [];
  for (const item of list as Record<string, unknown>[]) {
    const image = (item?.image as { large_images?: { image_url?: unknown }[] } | undefined)?.large_images?.[0]
      ?.image_url;
    const video = (item?.video as { transcoded_video?: { origin?: { video_url?: unknown } } } | undefined)
      ?.transcoded_video?.origin?.video_url;
    const url = typeof image === "string" ? image : typeof video === "string" ? video : undefined;
    if (url) urls.push(url.replace(/\\u0026/g, "&"));
  }
  return urls;
}

function readPoints(json: unknown): SessionPoints["points"] | undefined {
  const first = Array.isArray(json) ? (json[0] as { points?: unknown } | undefined) : undefined;
  const points = first?.points as Record<string, unknown> | undefined;
  if (!points || typeof points !== "object") return undefined;
  const num = (value: unknown) => (typeof value === "number" ? value : 0);
  const gift = num(points.giftCredit);
  const purchase = num(points.purchaseCredit);
  const vip = num(points.vipCredit);
  return {
    gift,
    purchase,
    vip,
    total: typeof points.totalCredit === "number" ? points.totalCredit : gift + purchase + vip,
  };
}

function noQueryRoute(style: "split" | "generic" | "submit"): ApiError {
  return new ApiError(
    style === "split"
      ? "the server has no /v1/async/{images,videos}/tasks/:id routes"
      : style === "generic"
        ? "the server has no async query routes (/v1/async/tasks/:id)"
        : "the server has no async submit routes (/v1/async/...): it is not an async-capable jimeng-api fork",
    {
      provider: "session",
      httpStatus: 200,
      code: -1000,
      hint: "use a server with the history_id async extension (jackystd/jimeng-api), or the blocking routes",
    },
  );
}
