/**
 * Volcengine Ark behind the provider-neutral `Provider` interface.
 *
 * Images: Ark's call is synchronous, so `submit` makes the call, gives it a local task id (`ark-img-…`) and
 * records every image in the result store as it arrives (with streaming on, each one before the next is read),
 * so an interruption keeps what was paid for and `get` reads the set back. `count` asks 4.x for a set in one
 * request and sends parallel requests to 3.0; a set where some images fail keeps the others.
 * Video: real task ids (`cgt-…`), polled like the other providers' tasks; `cancel` for queued ones.
 */
import { randomUUID } from "node:crypto";
import { ApiError, JimengError, ValidationError } from "../../errors.js";
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
import { ARK_MODELS, type ArkModel, resolveArkModel } from "./catalog.js";
import { ArkClient, type ArkClientOptions, type ArkImageResult } from "./client.js";
import { ImageRate } from "./image-rate.js";
import { toImageRequests, toVideoRequest } from "./native.js";
import { type ArkResultStore, memoryResultStore, summarise } from "./results.js";
import type { ArkImageItem, ArkImageRequest, ArkVideoTask } from "./schemas.js";

export const ARK_IMAGE_TASK_PREFIX = "ark-img-";
const DEFAULT_IMAGES_PER_MINUTE = 500;

export interface ArkProviderOptions extends ArkClientOptions {
  /** Use this client instead of making one (the provider then does not close it). */
  client?: ArkClient;
  /** Where synchronous image results are kept for `get` (default: this process's memory). */
  results?: ArkResultStore;
  /** Stream 4.x image sets (each image recorded as it arrives). Default true. */
  stream?: boolean;
  /** For `ep-…` endpoint ids: the model family each endpoint serves (e.g. `{ "ep-2025…": "seedream-4.5" }`). */
  endpointFamilies?: Record<string, string>;
  /** Send BytePlus (international) model ids. Default: when the endpoint is a bytepluses.com host. */
  international?: boolean;
  /**
   * Images per minute for this provider's image calls (a set counts its images): a call waits until its images
   * fit instead of drawing a 429. Default 500 (Ark's documented order for Seedream 4.5); 0 turns it off.
   */
  imagesPerMinute?: number;
  /** Clock for `submittedAt` (ms). */
  now?: () => number;
}

function contentTypeOf(url: string | undefined, base64: string | undefined): string {
  if (base64?.startsWith("iVBOR")) return "image/png";
  if (url && /\.png(?:$|[?#])/i.test(url)) return "image/png";
  return "image/jpeg";
}

function outputOf(item: Pick<ArkImageItem, "url" | "b64_json">): TaskOutput | undefined {
  if (item.url) return { url: item.url, contentType: contentTypeOf(item.url, undefined) };
  if (item.b64_json) return { base64: item.b64_json, contentType: contentTypeOf(undefined, item.b64_json) };
  return undefined;
}

function failureOf(error: unknown): TaskFailure {
  if (error instanceof ApiError)
    return {
      code: error.code,
      message: error.message,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    };
  if (error instanceof JimengError) return { code: error.code, message: error.message };
  return { code: "ERROR", message: String(error) };
}

export class ArkProvider implements Provider {
  readonly name = "ark" as const;
  readonly models: readonly ModelCapability[] = ARK_MODELS;
  readonly client: ArkClient;
  readonly #ownsClient: boolean;
  readonly #results: ArkResultStore;
  readonly #stream: boolean;
  readonly #families: Record<string, string>;
  readonly #international: boolean;
  readonly #now: () => number;
  readonly #imageRate: ImageRate;

  constructor(options: ArkProviderOptions) {
    const {
      client,
      results,
      stream,
      endpointFamilies,
      international,
      imagesPerMinute,
      now,
      ...clientOptions
    } = options;
    this.client = client ?? new ArkClient(clientOptions);
    this.#ownsClient = client === undefined;
    this.#results = results ?? memoryResultStore();
    this.#stream = stream ?? true;
    this.#families = endpointFamilies ?? {};
    this.#international = international ?? /bytepluses\.com/i.test(this.client.endpoint);
    this.#now = now ?? Date.now;
    this.#imageRate = new ImageRate({
      perMinute: imagesPerMinute ?? DEFAULT_IMAGES_PER_MINUTE,
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
  }

  get endpoint(): string {
    return this.client.endpoint;
  }

  get #origin(): string {
    return new URL(this.client.endpoint).origin;
  }

  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability {
    const trimmed = name?.trim();
    return resolveArkModel(trimmed, kind, trimmed ? this.#families[trimmed] : undefined);
  }

  async submit(request: ProviderRequest, options: SubmitOptions = {}): Promise<TaskRef> {
    const model = request.model as ArkModel;
    if (model.provider !== "ark" || !("api" in model))
      throw new ValidationError([{ path: "model", message: `${model.id} is not an Ark model` }]);
    // The shared model rules (options, values, image limits) first; then only the translation is Ark's.
    assertFitsModel(request);
    const modelId = this.#international && model.internationalId ? model.internationalId : model.id;
    const call = options.signal ? { signal: options.signal } : {};
    const ref = (taskId: string): TaskRef => ({
      provider: "ark",
      taskId,
      model: model.id,
      kind: request.kind,
      submittedAt: new Date(this.#now()).toISOString(),
      ...(request.count !== undefined ? { count: request.count } : {}),
    });

    if (model.api === "videos") {
      const body = toVideoRequest(request, model, { modelId });
      const created = await this.client.videos.create(body, call);
      const submitted = ref(created.id);
      await options.onSubmitted?.(submitted);
      return submitted;
    }

    const bodies = toImageRequests(request, model, { modelId, stream: this.#stream });
    const submitted = ref(`${ARK_IMAGE_TASK_PREFIX}${randomUUID()}`);
    let announced = false;
    const once: SubmitOptions = {
      ...options,
      onSubmitted: async (value) => {
        if (announced) return;
        announced = true;
        await options.onSubmitted?.(value);
      },
    };
    if (bodies.length === 1) await this.#imageCall(bodies[0] as ArkImageRequest, submitted, 0, once);
    else await this.#parallelCalls(bodies, submitted, once);
    await once.onSubmitted?.(submitted);
    return submitted;
  }

  async get(ref: TaskRef, options: GetOptions = {}): Promise<TaskStatus> {
    if (ref.taskId.startsWith(ARK_IMAGE_TASK_PREFIX)) return this.#imageStatus(ref);
    const task = await this.client.videos.get(ref.taskId, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    return videoStatus(ref, task);
  }

  async cancel(ref: TaskRef, options: GetOptions = {}): Promise<void> {
    if (ref.taskId.startsWith(ARK_IMAGE_TASK_PREFIX))
      throw new JimengError(
        `task ${ref.taskId} is an Ark image call: it ended when it was submitted; there is nothing to cancel`,
        {
          code: "CANCEL_UNSUPPORTED",
        },
      );
    await this.client.videos.cancel(ref.taskId, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.client.close();
  }

  /**
   * One image call; every image is recorded under `offset + index` as it arrives (streaming) or when the answer
   * is in. A call that fails before any image is recorded throws (nothing was made); one cut off after some
   * images keeps them.
   */
  async #imageCall(
    body: ArkImageRequest,
    ref: TaskRef,
    offset: number,
    options: SubmitOptions,
    announce = true,
  ): Promise<number> {
    let recorded = 0;
    let announced = !announce;
    const record = async (index: number, item: ArkImageItem) => {
      const output = outputOf(item);
      if (output) {
        await this.#results.append({
          taskId: ref.taskId,
          index: offset + index,
          output,
          origin: this.#origin,
        });
        recorded++;
      } else {
        await this.#results.append({
          taskId: ref.taskId,
          index: offset + index,
          failure: {
            code: item.error?.code ?? "NO_IMAGE",
            message: item.error?.message ?? "no image in the answer",
          },
        });
      }
    };
    await this.#imageRate.take(body.sequential_image_generation_options?.max_images ?? 1, options.signal);
    let result: ArkImageResult;
    try {
      result = await this.client.images.generate(body, {
        ...(options.signal ? { signal: options.signal } : {}),
        onEvent: async (event) => {
          if (event.type === "image_generation.partial_succeeded") await record(event.image_index, event);
          else if (event.type === "image_generation.partial_failed")
            await record(event.image_index, { error: event.error });
          if (!announced) {
            // The first image is paid for and recorded: now the task id may be journaled (never an id whose
            // images a later process could not find).
            announced = true;
            await options.onSubmitted?.(ref);
          }
        },
      });
    } catch (error) {
      if (recorded === 0) throw error;
      await this.#results.append({ taskId: ref.taskId, done: true });
      return recorded;
    }
    if (body.stream !== true) for (const [index, item] of result.data.entries()) await record(index, item);
    await this.#finish(ref, recorded, result);
    return recorded;
  }

  /** Seedream 3.0: `count` requests at once, one image each; the set keeps every image that came back. */
  async #parallelCalls(bodies: ArkImageRequest[], ref: TaskRef, options: SubmitOptions): Promise<void> {
    const settled = await Promise.allSettled(
      bodies.map((body, index) => this.#imageCall(body, ref, index, options, false)),
    );
    const made = settled.reduce((sum, entry) => sum + (entry.status === "fulfilled" ? entry.value : 0), 0);
    const failed = settled.filter((entry): entry is PromiseRejectedResult => entry.status === "rejected");
    for (const [index, entry] of settled.entries())
      if (entry.status === "rejected")
        await this.#results.append({ taskId: ref.taskId, index, failure: failureOf(entry.reason) });
    if (made === 0 && failed[0]) throw failed[0].reason;
    await this.#results.append({ taskId: ref.taskId, done: true });
  }

  async #finish(ref: TaskRef, recorded: number, result: ArkImageResult): Promise<void> {
    if (recorded > 0) {
      await this.#results.append({
        taskId: ref.taskId,
        done: true,
        ...(result.requestId ? { requestId: result.requestId } : {}),
      });
      return;
    }
    const first = result.data.find((item) => item.error)?.error;
    const failure: TaskFailure = {
      code: first?.code ?? "NO_OUTPUT",
      message: first?.message ?? "Ark answered without images",
      ...(result.requestId ? { requestId: result.requestId } : {}),
    };
    await this.#results.append({
      taskId: ref.taskId,
      done: true,
      failure,
      ...(result.requestId ? { requestId: result.requestId } : {}),
    });
  }

  async #imageStatus(ref: TaskRef): Promise<TaskStatus> {
    const summary = summarise(await this.#results.read(ref.taskId), this.#origin);
    const base = { ref, ...(summary.requestId ? { requestId: summary.requestId } : {}) };
    if (summary.outputs.length > 0) return { ...base, status: "succeeded", outputs: summary.outputs };
    if (summary.done || summary.failures.length > 0) {
      const failure = summary.failure ??
        summary.failures[0] ?? { code: "NO_OUTPUT", message: "Ark answered without images" };
      return { ...base, status: "failed", outputs: [], error: failure };
    }
    return {
      ...base,
      status: "expired",
      outputs: [],
      error: {
        code: "LOCAL_RESULT_GONE",
        message: `${ref.model} answers synchronously and this process has no record of task ${ref.taskId} (results are kept where the submitting process kept them) — submit again`,
      },
    };
  }
}

function videoStatus(ref: TaskRef, task: ArkVideoTask & { requestId?: string }): TaskStatus {
  const base = { ref, ...(task.requestId ? { requestId: task.requestId } : {}) };
  switch (task.status) {
    case "queued":
    case "running":
      return { ...base, status: task.status, outputs: [] };
    case "succeeded": {
      const url = task.content?.video_url;
      if (url) return { ...base, status: "succeeded", outputs: [{ url, contentType: "video/mp4" }] };
      return {
        ...base,
        status: "failed",
        outputs: [],
        error: { code: "NO_OUTPUT", message: "the task succeeded without a video_url" },
      };
    }
    default:
      return {
        ...base,
        status: task.status,
        outputs: [],
        error: {
          code: task.error?.code ?? task.status.toUpperCase(),
          message:
            task.error?.message ||
            (task.status === "expired"
              ? "the task expired before it ran (execution_expires_after)"
              : `the task was ${task.status}`),
          ...(task.requestId ? { requestId: task.requestId } : {}),
        },
      };
  }
}
