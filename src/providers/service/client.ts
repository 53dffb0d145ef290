/**
 * `ServiceClient`: a small typed client of a `jimeng serve` service (or of any server with the seeds' API),
 * for scripts that share one server instead of holding provider credentials. Only `fetch`; nothing of the
 * server (fastify, SQLite) is loaded, so it is part of the main `jimeng` entry.
 */
import { AbortError, type ErrorJSON, JimengError, NetworkError, WaitTimeoutError } from "../../errors.js";

export interface ServiceClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080. */
  url: string;
  /** A user's (or the admin's) API key; omit for a server in `--insecure-no-auth` mode. */
  apiKey?: string;
  /** Replaces the global `fetch` (tests, proxies). */
  fetch?: typeof fetch;
}

/** A refusal or failure answered by the service: its HTTP status and its `{error, message}` body. */
export class ServiceError extends JimengError {
  override name = "ServiceError";
  readonly httpStatus: number;
  readonly retryAfterMs?: number;
  readonly requestId?: string;

  constructor(
    message: string,
    options: { code: string; httpStatus: number; retryAfterMs?: number; requestId?: string },
  ) {
    super(message, { code: options.code });
    this.httpStatus = options.httpStatus;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.requestId !== undefined) this.requestId = options.requestId;
  }

  override toJSON(): ErrorJSON {
    return {
      ...super.toJSON(),
      httpStatus: this.httpStatus,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.requestId !== undefined ? { requestId: this.requestId } : {}),
    };
  }
}

/** Per call: stop waiting for the answer when `signal` aborts. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A model the service offers (`GET /api/v1/models`). */
export interface ServiceModel {
  id: string;
  title: string;
  kinds: string[];
  output: string;
  ratios: string[];
  default_for: string[];
}

export type ServiceTaskStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

export interface ImageTaskInput {
  prompt: string;
  user_id?: string;
  model?: string;
  size?: "256x256" | "512x512" | "1024x1024" | "1024x1792" | "1792x1024";
  quality?: "standard" | "hd";
  style?: "natural" | "anime" | "cyberpunk" | "realistic";
  n?: number;
  /** Reference images (http(s) or data URLs): the task composes. */
  images?: string[];
  ratio?: string;
  resolution?: string;
  seed?: number;
  negative?: string;
  strength?: number;
}

export interface VideoTaskInput {
  prompt: string;
  user_id?: string;
  model?: string;
  images?: string[];
  duration?: number;
  ratio?: string;
  resolution?: string;
  seed?: number;
}

export interface CreatedTask {
  task_id: string;
  status: "pending";
  message: string;
  provider: string;
  system_task_id: string;
}

export interface TaskOutputLink {
  url: string;
  source_url?: string;
  sha256?: string;
  bytes?: number;
}

/** The answer of `GET /api/v1/ai/{image,video}/result/:id`, flattened. */
export interface ServiceTaskResult {
  taskId: string;
  status: ServiceTaskStatus;
  /** While running: 0–100. */
  progress?: number;
  /** The first output (completed only). */
  url?: string;
  outputs: TaskOutputLink[];
  error?: { message: string; code?: string | number };
}

export interface ServiceTaskRecord {
  task_id: string;
  user_id: string;
  type: "image" | "video";
  status: ServiceTaskStatus;
  progress: number;
  model?: string;
  prompt: string;
  upstream_task_id: string | null;
  urls: string[];
  error: { code: string | number; message: string } | null;
  batch_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface ServiceUser {
  id: string;
  email: string | null;
  name: string | null;
  credits: number;
  admin: boolean;
  created_at: string;
  updated_at: string;
}

export interface WaitForResultOptions {
  /** Pause between two polls (default 1 s). */
  intervalMs?: number;
  /** Deadline (default 10 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Json = Record<string, unknown>;

export class ServiceClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ServiceClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async createImageTask(input: ImageTaskInput, options: CallOptions = {}): Promise<CreatedTask> {
    return (await this.json("POST", "/api/v1/ai/image/task", input, [], options.signal)).data as CreatedTask;
  }

  async createVideoTask(input: VideoTaskInput, options: CallOptions = {}): Promise<CreatedTask> {
    return (await this.json("POST", "/api/v1/ai/video/task", input, [], options.signal)).data as CreatedTask;
  }

  /** The provider the service's workers submit to, and the models it offers. Needs a valid key. */
  async catalog(options: CallOptions = {}): Promise<{ provider: string; models: ServiceModel[] }> {
    const body = await this.json("GET", "/api/v1/models", undefined, [], options.signal);
    return { provider: String(body.provider ?? ""), models: (body.data ?? []) as ServiceModel[] };
  }

  /** One look at a task's result (202 while it runs, 500 when it failed: both are answers, not errors). */
  async getResult(
    taskId: string,
    kind: "image" | "video" = "image",
    options: CallOptions = {},
  ): Promise<ServiceTaskResult> {
    const body = await this.json(
      "GET",
      `/api/v1/ai/${kind}/result/${encodeURIComponent(taskId)}`,
      undefined,
      [202, 500],
      options.signal,
    );
    const data = (body.data ?? {}) as Json;
    const status = data.status as ServiceTaskStatus;
    const result = (data.result ?? {}) as { metadata?: { data?: TaskOutputLink[] } };
    const url = (data.image_url ?? data.video_url) as string | undefined;
    return {
      taskId,
      status,
      ...(typeof data.progress === "number" ? { progress: data.progress } : {}),
      ...(url ? { url } : {}),
      outputs: result.metadata?.data ?? [],
      ...(status === "failed" || status === "cancelled"
        ? {
            error: {
              message: String(body.message ?? status),
              ...(data.code !== undefined ? { code: data.code as string | number } : {}),
            },
          }
        : {}),
    };
  }

  /** Polls until the task ended; resolves when completed, throws ServiceError when it failed or was cancelled. */
  async waitForResult(taskId: string, options: WaitForResultOptions = {}): Promise<ServiceTaskResult> {
    const interval = options.intervalMs ?? 1000;
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    for (;;) {
      if (options.signal?.aborted) throw new AbortError(`stopped waiting for task ${taskId}`, { taskId });
      const result = await this.getResult(taskId);
      if (result.status === "completed") return result;
      if (result.status === "failed" || result.status === "cancelled") {
        throw new ServiceError(`task ${taskId} ${result.status}: ${result.error?.message ?? ""}`, {
          code: String(result.error?.code ?? result.status),
          httpStatus: 500,
        });
      }
      if (Date.now() + interval > deadline) {
        throw new WaitTimeoutError(`task ${taskId} did not finish in time (last status: ${result.status})`, {
          taskId,
          lastStatus: result.status,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  async getTask(taskId: string): Promise<ServiceTaskRecord> {
    return (await this.json("GET", `/api/v1/tasks/${encodeURIComponent(taskId)}`)).data as ServiceTaskRecord;
  }

  async listTasks(
    userId: string,
    query: { limit?: number; cursor?: string; status?: ServiceTaskStatus } = {},
  ): Promise<{ tasks: ServiceTaskRecord[]; next_cursor: string | null }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const suffix = params.size ? `?${params}` : "";
    const body = await this.json("GET", `/api/v1/tasks/user/${encodeURIComponent(userId)}${suffix}`);
    return body.data as { tasks: ServiceTaskRecord[]; next_cursor: string | null };
  }

  /**
   * Cancels a task: a queued one, or a submitted one where the service's provider can cancel it upstream
   * (ServiceError 409 when it cannot).
   */
  async cancel(taskId: string, options: CallOptions = {}): Promise<void> {
    await this.json("DELETE", `/api/v1/tasks/${encodeURIComponent(taskId)}`, undefined, [], options.signal);
  }

  /** Admin key: a new user and its API key (shown this once). */
  async createUser(input: { email: string; name?: string; id?: string; credits?: number }): Promise<{
    user: ServiceUser;
    apiKey: string;
  }> {
    const { api_key: apiKey, ...user } = (await this.json("POST", "/api/v1/users", input))
      .data as ServiceUser & {
      api_key: string;
    };
    return { user, apiKey };
  }

  async credits(): Promise<number> {
    return (await this.json("GET", "/api/credits")).credits as number;
  }

  /** The bytes of an output link of this service. */
  async download(url: string): Promise<Uint8Array> {
    const response = await this.request("GET", url.startsWith("http") ? url : `${this.base}${url}`);
    if (!response.ok) throw await this.failure(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  private async request(
    method: string,
    url: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      return await this.fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      throw unanswered(error, `${method} ${new URL(url).origin}`);
    }
  }

  private async json(
    method: string,
    path: string,
    body?: unknown,
    answers: number[] = [],
    signal?: AbortSignal,
  ): Promise<Json> {
    const response = await this.request(method, `${this.base}${path}`, body, signal);
    if (!response.ok && !answers.includes(response.status)) throw await this.failure(response);
    return (await response.json()) as Json;
  }

  private async failure(response: Response): Promise<ServiceError> {
    const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    const retryAfter = Number(response.headers.get("retry-after"));
    const requestId = response.headers.get("x-request-id") ?? undefined;
    return new ServiceError(
      `${response.status} ${body.error ?? response.statusText}: ${body.message ?? ""}`.trim(),
      {
        code: body.error ?? String(response.status),
        httpStatus: response.status,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
        ...(requestId ? { requestId } : {}),
      },
    );
  }
}

/** Connection failures that prove the request never reached the service (safe to send again). */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** A request that got no answer (fetch rejects with a TypeError whose cause is the socket's error). */
function unanswered(error: unknown, what: string): NetworkError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  return new NetworkError(
    `${what}: no answer from the service (${code ?? cause?.message ?? String(error)})`,
    {
      cause: error,
      notSent: code !== undefined && NOT_SENT.has(code),
      hint: "check that the service is running and that the URL is right",
    },
  );
}
