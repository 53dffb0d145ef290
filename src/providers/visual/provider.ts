/**
 * The Visual API behind the provider-neutral `Provider` interface: generic request → native body → submit,
 * and GetResult → TaskStatus. CVProcess-only models (Jimeng 2.1) answer in the submit call itself; their
 * task id is local (`local-…`): the result is kept in this process's memory and `get` returns it, so such
 * a task cannot be resumed from another process.
 */
import { randomUUID } from "node:crypto";
import { ApiError, AuthError, RateLimitError } from "../../errors.js";
import { assertFitsModel } from "../rules.js";
import type {
  GetOptions,
  ModelCapability,
  Provider,
  ProviderRequest,
  SubmitOptions,
  TaskFailure,
  TaskKind,
  TaskOutput,
  TaskRef,
  TaskStatus,
} from "../types.js";
import { resolveVisualModel, VISUAL_MODELS, visualModel } from "./catalog.js";
import {
  type GetResultOptions,
  VisualClient,
  type VisualClientOptions,
  type VisualResult,
} from "./client.js";
import { toVisualNativeRequest } from "./native.js";

export interface VisualProviderOptions extends VisualClientOptions {
  /** Use this client instead of making one (the provider then does not close it). */
  client?: VisualClient;
  /** Watermark / AIGC label options sent with every GetResult. */
  resultOptions?: Pick<GetResultOptions, "logoInfo" | "aigcMeta">;
  /** Clock for `submittedAt` (ms). */
  now?: () => number;
}

export const LOCAL_TASK_PREFIX = "local-";
const MAX_LOCAL_RESULTS = 256;

/**
 * A best guess of a URL output's type: the URL's extension, else the model's. Inline (base64) outputs carry
 * none: the media layer names their type from the bytes when it saves them.
 */
function contentTypeOf(model: ModelCapability | undefined, url: string): string {
  const ext = /\.(png|jpe?g|webp|mp4)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  if (ext === "png") return "image/png";
  if (ext === "jpg" || ext === "jpeg") return "image/jpeg";
  if (ext === "webp") return "image/webp";
  if (ext === "mp4" || model?.output === "video") return "video/mp4";
  // The 4.x docs say PNG; 3.x, 2.1 and i2i say JPEG.
  return model?.id.includes("v40") || model?.id.includes("seedream46") ? "image/png" : "image/jpeg";
}

function outputsOf(
  model: ModelCapability | undefined,
  result: Pick<VisualResult, "imageUrls" | "binaryDataBase64" | "videoUrl">,
): TaskOutput[] {
  const outputs: TaskOutput[] = [];
  for (const url of result.imageUrls ?? []) outputs.push({ url, contentType: contentTypeOf(model, url) });
  if (outputs.length === 0) for (const base64 of result.binaryDataBase64 ?? []) outputs.push({ base64 });
  if (result.videoUrl) outputs.push({ url: result.videoUrl, contentType: "video/mp4" });
  return outputs;
}

/** A poll answer that means "this task failed" (as opposed to "this poll failed"). */
function isTaskFailure(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    !(error instanceof AuthError) &&
    !(error instanceof RateLimitError) &&
    !error.retryable &&
    typeof error.code === "number"
  );
}

export class VisualProvider implements Provider {
  readonly name = "visual" as const;
  readonly models: readonly ModelCapability[] = VISUAL_MODELS;
  readonly client: VisualClient;
  readonly #ownsClient: boolean;
  readonly #now: () => number;
  readonly #resultOptions: Pick<GetResultOptions, "logoInfo" | "aigcMeta">;
  readonly #local = new Map<string, TaskOutput[]>();

  constructor(options: VisualProviderOptions) {
    const { client, resultOptions, now, ...clientOptions } = options;
    this.client = client ?? new VisualClient(clientOptions);
    this.#ownsClient = client === undefined;
    this.#now = now ?? Date.now;
    this.#resultOptions = resultOptions ?? {};
  }

  get endpoint(): string {
    return this.client.endpoint;
  }

  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability {
    return resolveVisualModel(name, kind);
  }

  async submit(request: ProviderRequest, options: SubmitOptions = {}): Promise<TaskRef> {
    assertFitsModel(request);
    const native = toVisualNativeRequest(request);
    const call = options.signal ? { signal: options.signal } : {};
    let taskId: string;
    if (native.action === "process") {
      const result = await this.client.process(native.reqKey, native.body, call);
      taskId = `${LOCAL_TASK_PREFIX}${randomUUID()}`;
      this.#remember(taskId, outputsOf(request.model, result));
    } else {
      taskId = (await this.client.submitTask(native.reqKey, native.body, call)).taskId;
    }
    const ref: TaskRef = {
      provider: "visual",
      taskId,
      model: native.reqKey,
      kind: request.kind,
      submittedAt: new Date(this.#now()).toISOString(),
      // What was asked for: the most outputs that are kept of this task.
      ...(request.count !== undefined ? { count: request.count } : {}),
    };
    await options.onSubmitted?.(ref);
    return ref;
  }

  async get(ref: TaskRef, options: GetOptions = {}): Promise<TaskStatus> {
    if (ref.taskId.startsWith(LOCAL_TASK_PREFIX)) {
      const outputs = this.#local.get(ref.taskId);
      if (outputs) return { ref, status: "succeeded", outputs };
      return {
        ref,
        status: "expired",
        outputs: [],
        error: {
          code: "LOCAL_RESULT_GONE",
          message: `${ref.model} answers synchronously; its result lived only in the process that submitted it — submit again`,
        },
      };
    }
    const model = visualModel(ref.model);
    let result: VisualResult;
    try {
      result = await this.client.getResult(ref.model, ref.taskId, {
        ...this.#resultOptions,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      });
    } catch (error) {
      if (!isTaskFailure(error)) throw error;
      const failure: TaskFailure = { code: error.code, message: error.message };
      if (error.requestId) failure.requestId = error.requestId;
      return { ref, status: "failed", outputs: [], requestId: error.requestId, error: failure };
    }
    const base = { ref, requestId: result.requestId };
    switch (result.status) {
      case "in_queue":
        return { ...base, status: "queued", outputs: [] };
      case "generating":
        return { ...base, status: "running", outputs: [] };
      case "done": {
        const outputs = outputsOf(model, result);
        if (outputs.length > 0) return { ...base, status: "succeeded", outputs };
        return {
          ...base,
          status: "failed",
          outputs: [],
          error: {
            code: "NO_OUTPUT",
            message: "the task finished without outputs",
            requestId: result.requestId,
          },
        };
      }
      default:
        return {
          ...base,
          status: "expired",
          outputs: [],
          error: {
            code: result.status,
            message:
              result.status === "not_found"
                ? "the Visual API does not know this task (tasks expire after 12 h, and GetResult needs the submit's req_key) — submit again"
                : "the task expired — submit again",
            requestId: result.requestId,
          },
        };
    }
  }

  async close(): Promise<void> {
    this.#local.clear();
    if (this.#ownsClient) await this.client.close();
  }

  #remember(taskId: string, outputs: TaskOutput[]): void {
    this.#local.set(taskId, outputs);
    if (this.#local.size > MAX_LOCAL_RESULTS) {
      const oldest = this.#local.keys().next().value;
      if (oldest !== undefined) this.#local.delete(oldest);
    }
  }
}
