/**
 * The Volcengine Ark client (Bearer API key): `images.generate` (synchronous; streamed per image with
 * `stream: true`) and the video task routes `videos.create/get/list/cancel`. Requests are checked against the
 * wire schemas before sending; every failure is a typed error with Ark's code, the HTTP status and the
 * `x-request-id`. Retries follow src/http/retry.ts: an image or video submit costs money, so it is repeated
 * only when it provably never left or Ark said it was throttled; a request cut off mid-flight is an
 * uncertain submit and is not repeated.
 */
import { AbortError, NetworkError, RequestTimeoutError, ValidationError } from "../../errors.js";
import { parseServerJson } from "../../http/json-text.js";
import { isRetryable, parseRetryAfter, retryDelay } from "../../http/retry.js";
import { sleep as defaultSleep } from "../../http/sleep.js";
import {
  type ClientTransportOptions,
  clientTransport,
  type HttpTransport,
  type Interpretation,
  type RawResponse,
} from "../../http/transport.js";
import { ENV_NAMES } from "../../setting-names.js";
import { parseOrThrow } from "../../validation.js";
import { type ArkOperation, arkErrorFrom, arkRequestId } from "./errors.js";
import {
  type ArkImageEvent,
  type ArkImageRequest,
  type ArkImageResponse,
  type ArkListQuery,
  type ArkTaskList,
  type ArkVideoRequest,
  type ArkVideoTask,
  arkCreatedTaskSchema,
  arkImageEventSchema,
  arkImageRequestSchema,
  arkImageResponseSchema,
  arkListQuerySchema,
  arkTaskListSchema,
  arkVideoRequestSchema,
  arkVideoTaskSchema,
} from "./schemas.js";
import { readSse } from "./sse.js";

export const DEFAULT_ARK_ENDPOINT = "https://ark.cn-beijing.volces.com/api/v3";
export const BYTEPLUS_ARK_ENDPOINT = "https://ark.ap-southeast.bytepluses.com/api/v3";
/** A synchronous image call can take a minute or more (4K sets); the default deadline leaves room. */
export const DEFAULT_IMAGE_TIMEOUT_MS = 5 * 60_000;

export interface ArkClientOptions extends ClientTransportOptions {
  apiKey: string;
  /** Default https://ark.cn-beijing.volces.com/api/v3 (BytePlus: https://ark.ap-southeast.bytepluses.com/api/v3). */
  endpoint?: string;
  /** Deadline per call in ms, retries included. Default 60 s (image generation: 5 min). */
  timeout?: number;
  userAgent?: string;
}

export interface ArkCallOptions {
  signal?: AbortSignal;
  /** Deadline for this call in ms, retries included. */
  timeout?: number;
}

export interface ArkImageCallOptions extends ArkCallOptions {
  /** With `stream: true`: each event as it arrives, awaited before the next is read. */
  onEvent?: (event: ArkImageEvent) => void | Promise<void>;
}

export type ArkImageResult = ArkImageResponse & { requestId?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class ArkClient {
  readonly endpoint: string;
  readonly #apiKey: string;
  readonly #transport: HttpTransport;
  readonly #options: ArkClientOptions;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  readonly images = {
    generate: (request: ArkImageRequest, options: ArkImageCallOptions = {}) =>
      this.#generate(request, options),
  };

  readonly videos = {
    /** Creates a video task (costs money; never repeated once it may have arrived). */
    create: (
      request: ArkVideoRequest,
      options: ArkCallOptions = {},
    ): Promise<{ id: string; requestId?: string }> =>
      this.#call("POST", "/contents/generations/tasks", "submit", options, {
        json: parseOrThrow(arkVideoRequestSchema, request),
        read: (json) => arkCreatedTaskSchema.safeParse(json).data,
      }),
    get: (id: string, options: ArkCallOptions = {}): Promise<ArkVideoTask & { requestId?: string }> =>
      this.#call("GET", `/contents/generations/tasks/${encodeURIComponent(checkId(id))}`, "poll", options, {
        read: (json) => arkVideoTaskSchema.safeParse(json).data,
      }),
    list: (
      query: ArkListQuery = {},
      options: ArkCallOptions = {},
    ): Promise<ArkTaskList & { requestId?: string }> => {
      const parsed = parseOrThrow(arkListQuerySchema, query);
      const search = new URLSearchParams();
      if (parsed.pageNum !== undefined) search.set("page_num", String(parsed.pageNum));
      if (parsed.pageSize !== undefined) search.set("page_size", String(parsed.pageSize));
      if (parsed.status) search.set("filter.status", parsed.status);
      if (parsed.model) search.set("filter.model", parsed.model);
      for (const id of parsed.taskIds ?? []) search.append("filter.task_ids", id);
      const query_ = search.size > 0 ? `?${search}` : "";
      return this.#call("GET", `/contents/generations/tasks${query_}`, "list", options, {
        read: (json) => arkTaskListSchema.safeParse(json).data,
      });
    },
    /** Cancels a queued task (Ark deletes the record of a finished one; refuses running and cancelled ones). */
    cancel: (id: string, options: ArkCallOptions = {}): Promise<{ requestId?: string }> =>
      this.#call(
        "DELETE",
        `/contents/generations/tasks/${encodeURIComponent(checkId(id))}`,
        "cancel",
        options,
        {
          read: () => ({}),
        },
      ),
  };

  constructor(options: ArkClientOptions) {
    const apiKey = options.apiKey?.trim() ?? "";
    if (!apiKey)
      throw new ValidationError([{ path: "apiKey", message: "is required" }], {
        hint: `pass apiKey (the jimeng CLI reads it from ${ENV_NAMES.arkApiKey})`,
      });
    this.#apiKey = apiKey;
    this.#options = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.endpoint = (options.endpoint ?? DEFAULT_ARK_ENDPOINT).replace(/\/+$/, "");
    this.#transport = clientTransport(options, {
      timeoutMs: options.timeout,
      userAgent: options.userAgent ?? "jimeng-sdk",
    });
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Never shows the key. */
  toJSON(): Record<string, string> {
    return { endpoint: this.endpoint };
  }

  async #generate(request: ArkImageRequest, options: ArkImageCallOptions): Promise<ArkImageResult> {
    const body = parseOrThrow(arkImageRequestSchema, request);
    const timeout = options.timeout ?? this.#options.timeout ?? DEFAULT_IMAGE_TIMEOUT_MS;
    if (body.stream === true) return this.#generateStreamed(body, { ...options, timeout });
    return this.#call(
      "POST",
      "/images/generations",
      "submit",
      { ...options, timeout },
      {
        json: body,
        read: (json) => arkImageResponseSchema.safeParse(json).data,
      },
    );
  }

  /**
   * A streamed image request: each `partial_succeeded` / `partial_failed` event goes to `onEvent` as it
   * arrives, and the answer is the same shape as the synchronous one. Retried only before any answer, on the
   * unsafe rules (never sent, or throttled).
   */
  async #generateStreamed(
    body: ArkImageRequest,
    options: ArkImageCallOptions & { timeout: number },
  ): Promise<ArkImageResult> {
    const url = new URL(`${this.endpoint}/images/generations`);
    const deadline = Date.now() + options.timeout;
    const maxRetries = this.#options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new RequestTimeoutError(`no answer from ${url.host} within ${options.timeout} ms`);
      let response: Awaited<ReturnType<HttpTransport["stream"]>>;
      try {
        response = await this.#transport.stream(url, {
          method: "POST",
          json: body,
          headers: { authorization: `Bearer ${this.#apiKey}`, accept: "text/event-stream" },
          timeoutMs: remaining,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (!(error instanceof NetworkError) || attempt >= maxRetries) throw error;
        if (!isRetryable({ kind: "network", notSent: error.notSent, code: String(error.code) }, false))
          throw error;
        await this.#retryPause(
          attempt,
          undefined,
          `network error ${String(error.code)}`,
          false,
          options.signal,
        );
        continue;
      }
      const requestId = response.header("x-request-id");
      const contentType = response.header("content-type") ?? "";
      if (response.status !== 200 || !contentType.includes("event-stream")) {
        const text = await readText(response.body);
        const json = parseServerJson(text);
        if (response.status === 200) {
          const plain = arkImageResponseSchema.safeParse(json);
          if (plain.success) return { ...plain.data, ...(requestId ? { requestId } : {}) };
        }
        const hintMs = parseRetryAfter(response.header);
        const error = arkErrorFrom(response.status, json, "submit", requestId, hintMs);
        const throttled = error.name === "RateLimitError";
        if (
          attempt >= maxRetries ||
          !isRetryable({ kind: "response", status: response.status, throttled }, false)
        )
          throw error;
        await this.#retryPause(
          attempt,
          hintMs,
          `HTTP ${response.status} ${String(error.code)}`,
          throttled,
          options.signal,
        );
        continue;
      }
      return this.#readImageEvents(response.body, body.model, requestId, url, options);
    }
  }

  async #readImageEvents(
    stream: AsyncIterable<Uint8Array>,
    model: string,
    requestId: string | undefined,
    url: URL,
    options: ArkImageCallOptions,
  ): Promise<ArkImageResult> {
    const result: ArkImageResult = { model, data: [], ...(requestId ? { requestId } : {}) };
    try {
      for await (const sse of readSse(stream)) {
        const parsed = arkImageEventSchema.safeParse(parseServerJson(sse.data));
        if (!parsed.success) {
          const error = parseServerJson(sse.data);
          if (isRecord(error) && isRecord(error.error)) throw arkErrorFrom(500, error, "submit", requestId);
          continue;
        }
        const event = parsed.data;
        if (event.type === "image_generation.partial_succeeded") {
          result.data[event.image_index] = {
            ...(event.url ? { url: event.url } : {}),
            ...(event.b64_json ? { b64_json: event.b64_json } : {}),
            ...(event.size ? { size: event.size } : {}),
          };
        } else if (event.type === "image_generation.partial_failed") {
          result.data[event.image_index] = { error: event.error };
        } else if (event.usage) {
          result.usage = event.usage;
        }
        await options.onEvent?.(event);
      }
    } catch (error) {
      if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
      if (error instanceof Error && "provider" in error) throw error;
      throw new NetworkError(
        `the image stream from ${url.host} was cut off after ${result.data.length} image(s)`,
        {
          cause: error,
          notSent: false,
          code: "STREAM_CUT",
          hint: "the images received so far are kept; the request may have been billed in full",
        },
      );
    }
    result.data = [...result.data].map((item) => item ?? { error: { code: "MISSING", message: "not sent" } });
    return result;
  }

  async #retryPause(
    attempt: number,
    hintMs: number | undefined,
    reason: string,
    throttled: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const delayMs = retryDelay(attempt, hintMs, this.#options.random);
    this.#options.onRetry?.({ attempt: attempt + 1, delayMs, reason, throttled });
    await this.#sleep(delayMs, signal);
  }

  #call<T extends object>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    operation: ArkOperation,
    options: ArkCallOptions,
    spec: { json?: unknown; read: (json: unknown) => T | undefined },
  ): Promise<T & { requestId?: string }> {
    return this.#transport.request({
      method,
      url: `${this.endpoint}${path}`,
      headers: { authorization: `Bearer ${this.#apiKey}` },
      ...(spec.json !== undefined ? { json: spec.json } : {}),
      safe: operation !== "submit",
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}),
      interpret: (response: RawResponse): Interpretation<T & { requestId?: string }> => {
        const requestId = response.header("x-request-id");
        if (response.status >= 200 && response.status < 300) {
          const value = spec.read(response.json ?? (response.text === "" ? {} : undefined));
          if (value) return { ok: true, value: { ...value, ...(requestId ? { requestId } : {}) } };
        }
        return {
          ok: false,
          error: arkErrorFrom(
            response.status >= 200 && response.status < 300 ? 502 : response.status,
            response.status >= 200 && response.status < 300 ? unexpected(path) : response.json,
            operation,
            requestId ?? arkRequestId(response.text.slice(-200), undefined),
            parseRetryAfter(response.header),
          ),
        };
      },
    });
  }
}

function unexpected(path: string): unknown {
  return {
    error: {
      code: "UNEXPECTED_RESPONSE",
      message: `Ark answered ${path} with an unexpected shape — report this with the request id`,
    },
  };
}

function checkId(id: string): string {
  if (typeof id !== "string" || !/^\S+$/.test(id))
    throw new ValidationError([{ path: "id", message: "must be the task id create returned" }]);
  return id;
}

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > 1024 * 1024) break;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}
