import type { Readable } from "node:stream";
import { Agent, type Dispatcher, type FormData } from "undici";
import { formatBytes } from "../bytes.js";
import {
  AbortError,
  type ApiError,
  type ErrorCode,
  JimengError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  TimeoutError,
} from "../errors.js";
import { parseServerJson } from "./json-text.js";
import { redactHeaders } from "./redact.js";
import {
  DEFAULT_MAX_RETRIES,
  type Failure,
  isNotSentCode,
  isRetryable,
  parseRetryAfter,
  retryDelay,
} from "./retry.js";
import { sleep as defaultSleep } from "./sleep.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "HEAD";

/** What is about to go on the wire for one attempt. `prepare` hooks (the signer) may add headers. */
export interface OutgoingRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  /** The exact body bytes that will be sent (empty for GET and multipart). */
  body: Uint8Array;
  attempt: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, whatever the HTTP status; undefined when it is not JSON. */
  json: unknown;
  header(name: string): string | undefined;
}

export type Interpretation<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface RequestSpec<T> {
  method: HttpMethod;
  url: string | URL;
  headers?: Record<string, string>;
  /** Serialised once; the same bytes go to `prepare` and on the wire for every attempt. */
  json?: unknown;
  body?: string | Uint8Array;
  form?: FormData;
  /** Safe to repeat (polls, downloads, checks) or not (submits: they cost money). */
  safe: boolean;
  signal?: AbortSignal;
  /** Deadline for the whole call, retries included. Defaults to the transport's timeout. */
  timeoutMs?: number;
  maxRetries?: number;
  prepare?: (request: OutgoingRequest) => void;
  /** Turns any response (any status) into a value or a typed error. */
  interpret: (response: RawResponse) => Interpretation<T>;
}

export type DebugEvent =
  | { type: "request"; attempt: number; method: HttpMethod; url: string; headers: Record<string, string> }
  | { type: "response"; attempt: number; method: HttpMethod; url: string; status: number; durationMs: number }
  | { type: "error"; attempt: number; method: HttpMethod; url: string; error: string; durationMs: number };

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
  /** The server said it was throttled (HTTP 429 or the provider's QPS / concurrency codes). */
  throttled: boolean;
  /** The code of the failure that is retried (HTTP status or the provider's code), when it had one. */
  code?: ErrorCode;
}

/** The transport settings every provider client takes as its own options. */
export interface ClientTransportOptions {
  /** Retries for retryable failures (polls, throttling, connections never made). Default 3. */
  maxRetries?: number;
  /** Largest API answer read (default 8 MB); a bigger one fails with RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
  /** Your own undici Dispatcher (Agent, ProxyAgent, MockAgent); never closed by the client. */
  dispatcher?: Dispatcher;
  onRetry?: (event: RetryEvent) => void;
  /** Asked before every request attempt (`RequestRate` for a hard requests-per-second cap). */
  gate?: TransportGate;
  /** Request/response events with credentials redacted. */
  onDebug?: (event: DebugEvent) => void;
  /** Injection points for tests: backoff sleep and jitter. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** The transport of a provider client: its own settings, passed through (unset ones stay unset). */
export function clientTransport(
  options: ClientTransportOptions,
  settings: { timeoutMs?: number | undefined; userAgent: string },
): HttpTransport {
  return new HttpTransport({
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.gate ? { gate: options.gate } : {}),
    ...(options.onDebug ? { onDebug: options.onDebug } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    userAgent: settings.userAgent,
  });
}

export interface TransportOptions {
  /** Your own undici Dispatcher (Agent, ProxyAgent, MockAgent). The transport never closes it. */
  dispatcher?: Dispatcher;
  /** Default deadline per call, retries included. */
  timeoutMs?: number;
  maxRetries?: number;
  /**
   * Largest API answer read, in bytes (default 8 MB): a bigger (or endless) body is cut off and the call
   * fails with code RESPONSE_TOO_LARGE, like any answer that makes no sense. Downloads have their own cap.
   */
  maxResponseBytes?: number;
  userAgent?: string;
  onDebug?: (event: DebugEvent) => void;
  onRetry?: (event: RetryEvent) => void;
  /**
   * Asked before every attempt (retries included) of `request`; the returned function is called when that
   * attempt's answer is in. A `RequestRate` here makes `--qps` a hard cap on what reaches the server.
   */
  gate?: TransportGate;
  /** Injection points for tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface TransportGate {
  acquire(signal?: AbortSignal): Promise<() => void>;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  header(name: string): string | undefined;
}

/** One keep-alive connection pool and the rules for talking over it. */
export class HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly options: TransportOptions;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private closed = false;

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.ownsDispatcher = options.dispatcher === undefined;
    // Timeouts are set per request from the caller's deadline; the Agent's own defaults (300 s) never apply.
    this.dispatcher =
      options.dispatcher ??
      new Agent({ keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0, connect: {} });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const url = typeof spec.url === "string" ? new URL(spec.url) : spec.url;
    const body = encodeBody(spec);
    const maxRetries = spec.maxRetries ?? this.maxRetries;
    const deadline = this.now() + (spec.timeoutMs ?? this.timeoutMs);

    for (let attempt = 0; ; attempt++) {
      throwIfAborted(spec.signal);
      const remaining = deadline - this.now();
      if (remaining <= 0) throw timeoutError(url, spec.timeoutMs ?? this.timeoutMs);

      let failure: Failure;
      let error: JimengError;
      let hintMs: number | undefined;
      try {
        const response = await this.send(spec, url, body, attempt, remaining);
        const result = spec.interpret(response);
        if (result.ok) return result.value;
        const apiError = result.error;
        error = apiError;
        hintMs = apiError instanceof RateLimitError ? apiError.retryAfterMs : undefined;
        hintMs ??= parseRetryAfter(response.header, this.now());
        failure = {
          kind: "response",
          status: response.status,
          throttled: apiError instanceof RateLimitError,
          retryableCode: apiError.retryable,
        };
      } catch (caught) {
        if (caught instanceof AbortError || caught instanceof TimeoutError) throw caught;
        if (!(caught instanceof NetworkError)) throw caught;
        error = caught;
        failure = { kind: "network", notSent: caught.notSent, code: String(caught.code) };
      }

      if (attempt >= maxRetries || !isRetryable(failure, spec.safe)) throw error;
      const delayMs = retryDelay(attempt, hintMs, this.options.random);
      if (this.now() + delayMs >= deadline) throw error;
      this.options.onRetry?.({
        attempt: attempt + 1,
        delayMs,
        reason: describeFailure(failure, error),
        throttled: failure.kind === "response" && failure.throttled,
        code: error.code,
      });
      await this.sleep(delayMs, spec.signal);
    }
  }

  /**
   * A single streamed request: a GET (downloads), or a POST whose answer is read as it arrives (server-sent
   * events). No retries here: the caller decides what is safe to repeat.
   */
  async stream(
    url: string | URL,
    options: {
      signal?: AbortSignal;
      timeoutMs?: number;
      /** Longest silence (no headers, or no body bytes) before the request is dropped. Default: timeoutMs. */
      idleTimeoutMs?: number;
      headers?: Record<string, string>;
      method?: "GET" | "POST";
      /** Sent as JSON (POST). */
      json?: unknown;
    } = {},
  ): Promise<StreamResponse> {
    const target = typeof url === "string" ? new URL(url) : url;
    throwIfAborted(options.signal);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const { signal, dispose } = combineSignals(options.signal, timeoutMs);
    const method = options.method ?? "GET";
    const headers: Record<string, string> = { "user-agent": this.userAgent(), ...options.headers };
    if (options.json !== undefined && !hasHeader(headers, "content-type"))
      headers["content-type"] = "application/json";
    this.debug({
      type: "request",
      attempt: 0,
      method,
      url: target.href,
      headers: redactHeaders(headers),
    });
    try {
      const res = await this.dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method,
        headers,
        ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
        signal,
        headersTimeout: Math.min(timeoutMs, options.idleTimeoutMs ?? timeoutMs),
        bodyTimeout: Math.min(timeoutMs, options.idleTimeoutMs ?? timeoutMs),
      });
      const body = res.body as unknown as Readable;
      body.once("close", dispose);
      body.once("error", dispose);
      return { status: res.statusCode, headers: res.headers, body, header: headerLookup(res.headers) };
    } catch (caught) {
      dispose();
      throw mapSendError(caught, options.signal, signal, target, timeoutMs);
    }
  }

  /** Closes the connection pool it owns; calling it again does nothing. */
  async close(): Promise<void> {
    if (!this.ownsDispatcher || this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private userAgent(): string {
    return this.options.userAgent ?? "jimeng-sdk";
  }

  private debug(event: DebugEvent): void {
    this.options.onDebug?.(event);
  }

  private async send<T>(
    spec: RequestSpec<T>,
    url: URL,
    body: Uint8Array,
    attempt: number,
    remainingMs: number,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = { "user-agent": this.userAgent(), ...spec.headers };
    if (spec.json !== undefined && !hasHeader(headers, "content-type"))
      headers["content-type"] = "application/json";
    const outgoing: OutgoingRequest = { method: spec.method, url: new URL(url.href), headers, body, attempt };
    spec.prepare?.(outgoing);

    const release = await this.options.gate?.acquire(spec.signal);
    const started = this.now();
    this.debug({
      type: "request",
      attempt,
      method: spec.method,
      url: outgoing.url.href,
      headers: redactHeaders(outgoing.headers),
    });
    const { signal, dispose } = combineSignals(spec.signal, remainingMs);
    try {
      const res = await this.dispatcher.request({
        origin: outgoing.url.origin,
        path: outgoing.url.pathname + outgoing.url.search,
        method: spec.method,
        headers: outgoing.headers,
        body: spec.form ?? (body.byteLength > 0 || spec.method !== "GET" ? body : undefined),
        signal,
        headersTimeout: remainingMs,
        bodyTimeout: remainingMs,
      });
      const text = await readCapped(
        res.body as AsyncIterable<Uint8Array> & { destroy(): void },
        this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        outgoing.url,
      );
      this.debug({
        type: "response",
        attempt,
        method: spec.method,
        url: outgoing.url.href,
        status: res.statusCode,
        durationMs: this.now() - started,
      });
      return {
        status: res.statusCode,
        headers: res.headers,
        text,
        json: parseServerJson(text),
        header: headerLookup(res.headers),
      };
    } catch (caught) {
      const error = mapSendError(caught, spec.signal, signal, outgoing.url, remainingMs);
      this.debug({
        type: "error",
        attempt,
        method: spec.method,
        url: outgoing.url.href,
        error: `${error.name}: ${error.message}`,
        durationMs: this.now() - started,
      });
      throw error;
    } finally {
      dispose();
      release?.();
    }
  }
}

/** The body as text, reading no more than `maxBytes` of it. */
async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy(): void },
  maxBytes: number,
  url: URL,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) {
      body.destroy();
      throw new JimengError(
        `the answer from ${url.host} is larger than ${formatBytes(maxBytes)}, the limit for an API answer; it was not read`,
        {
          code: "RESPONSE_TOO_LARGE",
          hint: "the server sent something that is not a normal answer; if it is legitimate, raise maxResponseBytes",
        },
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function encodeBody<T>(spec: RequestSpec<T>): Uint8Array {
  if (spec.form !== undefined) return new Uint8Array();
  if (spec.json !== undefined) return Buffer.from(JSON.stringify(spec.json), "utf8");
  if (typeof spec.body === "string") return Buffer.from(spec.body, "utf8");
  return spec.body ?? new Uint8Array();
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function headerLookup(
  headers: Record<string, string | string[] | undefined>,
): (name: string) => string | undefined {
  return (name) => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

/** The caller's signal and a deadline timer as one signal; `dispose` clears the timer. */
function combineSignals(
  user: AbortSignal | undefined,
  timeoutMs: number,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineReached()), timeoutMs);
  const onAbort = () => controller.abort(user?.reason);
  // A signal can fire between our last check and here (inside a prepare or debug hook).
  if (user?.aborted) controller.abort(user.reason);
  else user?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      user?.removeEventListener("abort", onAbort);
    },
  };
}

class DeadlineReached extends Error {}

function timeoutError(url: URL, timeoutMs: number): RequestTimeoutError {
  return new RequestTimeoutError(`no answer from ${url.host} within ${formatMs(timeoutMs)}`, {
    hint: "raise the timeout, or check that the endpoint is reachable",
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_ABORTED") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function mapSendError(
  caught: unknown,
  user: AbortSignal | undefined,
  combined: AbortSignal,
  url: URL,
  timeoutMs: number,
): JimengError {
  if (caught instanceof JimengError) return caught;
  if (user?.aborted) return new AbortError(undefined, { cause: user.reason });
  const code = errorCode(caught);
  if (
    combined.reason instanceof DeadlineReached ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    return timeoutError(url, timeoutMs);
  }
  const notSent = isNotSentCode(code);
  const what = notSent ? `could not connect to ${url.host}` : `the connection to ${url.host} failed`;
  return new NetworkError(`${what}${code ? ` (${code})` : ""}`, {
    cause: caught,
    code: code ?? "NETWORK_ERROR",
    notSent,
    hint: notSent
      ? "check the endpoint address and your network"
      : "the request may or may not have been processed",
  });
}

function describeFailure(failure: Failure, error: JimengError): string {
  if (failure.kind === "network") return `network error ${failure.code ?? ""}`.trim();
  return `HTTP ${failure.status} ${String(error.code)}`;
}
