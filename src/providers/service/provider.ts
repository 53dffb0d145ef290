/**
 * A shared `jimeng serve` behind the provider-neutral `Provider` interface, so that the CLI and the SDK use
 * the service instead of holding provider credentials: submit creates a task on the service, get reads its
 * result, outputs are the service's own copies (downloaded with the API key), cancel is the service's.
 *
 * The provider presents itself as the service's own provider (its name and model registry), so every check
 * of a request against its model runs here before anything is sent, exactly as against that provider.
 * Only `ServiceClient` (fetch) is used: nothing of the server (fastify, SQLite) is loaded.
 */
import {
  ApiError,
  AuthError,
  InsufficientCreditsError,
  JimengError,
  type ProviderName,
  RateLimitError,
  ValidationError,
} from "../../errors.js";
import { imageReference } from "../image-reference.js";
import { PROVIDERS } from "../registry.js";
import { assertFitsModel } from "../rules.js";
import type {
  GetOptions,
  ModelCapability,
  Provider,
  ProviderRequest,
  SubmitOptions,
  TaskKind,
  TaskOutput,
  TaskRef,
  TaskStatus,
} from "../types.js";
import { type CallOptions, ServiceClient, type ServiceClientOptions, ServiceError } from "./client.js";

export interface ServiceProviderOptions extends ServiceClientOptions {
  /** Says how to give the service a key, in the auth error a refused key gets (the CLI names its variable). */
  keyHint?: string;
}

/** What `connect` learnt from the service. */
interface Catalog {
  name: ProviderName;
  models: readonly ModelCapability[];
}

export class ServiceProvider implements Provider {
  readonly name: ProviderName;
  readonly models: readonly ModelCapability[];
  readonly endpoint: string;
  private readonly client: ServiceClient;
  private readonly origin: string;

  private constructor(
    private readonly options: ServiceProviderOptions,
    catalog: Catalog,
  ) {
    this.client = new ServiceClient(options);
    this.name = catalog.name;
    this.models = catalog.models;
    this.endpoint = options.url.replace(/\/+$/, "");
    this.origin = new URL(this.endpoint).origin;
  }

  /**
   * Asks the service which provider it runs and which models it offers (this also checks the API key: a
   * refused key is an AuthError here, before any request is built).
   */
  static async connect(options: ServiceProviderOptions, call: CallOptions = {}): Promise<ServiceProvider> {
    const client = new ServiceClient(options);
    const catalog = await translate(() => client.catalog(call), "visual", options);
    const name = catalog.provider as ProviderName;
    if (!Object.hasOwn(PROVIDERS, name)) {
      throw new JimengError(
        `the service at ${options.url} runs the "${catalog.provider}" provider, which this jimeng does not know`,
        { code: "UNSUPPORTED_SERVICE", hint: "update jimeng to the service's version" },
      );
    }
    const registry = (await PROVIDERS[name]()).models;
    const offered = new Set(catalog.models.map((model) => model.id));
    return new ServiceProvider(options, { name, models: registry.filter((model) => offered.has(model.id)) });
  }

  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability {
    const forKind = this.models.filter((model) => model.kinds.includes(kind));
    const wanted = name?.trim().toLowerCase();
    const found =
      wanted === undefined
        ? (forKind.find((model) => model.defaultFor?.includes(kind)) ?? forKind[0])
        : this.models.find(
            (model) =>
              model.id.toLowerCase() === wanted ||
              model.aliases.some((alias) => alias.toLowerCase() === wanted),
          );
    if (found?.kinds.includes(kind)) return found;
    const choices = forKind.map((model) => model.id).join(", ") || "none";
    throw new ValidationError([
      {
        path: "model",
        message: found
          ? `${found.id} does not do ${kind}; the service's models that do: ${choices}`
          : `the service has no ${this.name} model ${JSON.stringify(name)} for ${kind}; it offers: ${choices}`,
      },
    ]);
  }

  async submit(request: ProviderRequest, options: SubmitOptions = {}): Promise<TaskRef> {
    assertFitsModel(request);
    const unsent = (["size", "watermark"] as const).filter((field) => request[field] !== undefined);
    if (unsent.length > 0) {
      throw new ValidationError(
        unsent.map((field) => ({
          path: field,
          message: `a shared service does not take ${field}; use ratio and resolution`,
        })),
      );
    }
    const common = {
      prompt: request.prompt,
      model: request.model.id,
      ...(request.images.length > 0 ? { images: request.images.map(imageReference) } : {}),
      ...(request.ratio !== undefined ? { ratio: request.ratio } : {}),
      ...(request.resolution !== undefined ? { resolution: request.resolution } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
    };
    const call = options.signal ? { signal: options.signal } : {};
    const created = await translate(
      () =>
        request.kind === "video"
          ? this.client.createVideoTask(
              { ...common, ...(request.duration !== undefined ? { duration: request.duration } : {}) },
              call,
            )
          : this.client.createImageTask(
              {
                ...common,
                ...(request.count !== undefined ? { n: request.count } : {}),
                ...(request.negative !== undefined ? { negative: request.negative } : {}),
                ...(request.strength !== undefined ? { strength: request.strength } : {}),
              },
              call,
            ),
      this.name,
      this.options,
    );
    const ref: TaskRef = {
      provider: this.name,
      taskId: created.task_id,
      model: request.model.id,
      kind: request.kind,
      submittedAt: new Date().toISOString(),
    };
    await options.onSubmitted?.(ref);
    return ref;
  }

  async get(ref: TaskRef, options: GetOptions = {}): Promise<TaskStatus> {
    const kind = ref.kind === "video" ? "video" : "image";
    const result = await translate(
      () => this.client.getResult(ref.taskId, kind, options.signal ? { signal: options.signal } : {}),
      this.name,
      this.options,
      { retryable: true },
    );
    if (result.status === "pending") return { ref, status: "queued", outputs: [] };
    if (result.status === "processing") return { ref, status: "running", outputs: [] };
    if (result.status === "completed") {
      const outputs = result.outputs.map((link) => this.output(link.url, kind));
      return { ref, status: "succeeded", outputs };
    }
    return {
      ref,
      status: result.status,
      outputs: [],
      error: { code: result.error?.code ?? result.status, message: result.error?.message ?? result.status },
    };
  }

  /** Cancels the task on the service (a queued one; a submitted one where its provider can). */
  async cancel(ref: TaskRef, options: CallOptions = {}): Promise<void> {
    await translate(() => this.client.cancel(ref.taskId, options), this.name, this.options);
  }

  async close(): Promise<void> {}

  /** An output of the service: its link, with the key for the download when the link is the service's own. */
  private output(url: string, kind: "image" | "video"): TaskOutput {
    const own = new URL(url, this.endpoint);
    const output: TaskOutput = { url: own.href };
    if (kind === "video") output.contentType = "video/mp4";
    if (own.origin === this.origin && this.options.apiKey) {
      output.headers = { authorization: `Bearer ${this.options.apiKey}` };
    }
    return output;
  }
}

/** The service's refusals as the SDK's typed errors, so that exit codes and retries work as for any provider. */
async function translate<T>(
  work: () => Promise<T>,
  provider: ProviderName,
  options: ServiceProviderOptions,
  flags: { retryable?: boolean } = {},
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    const base = {
      provider,
      httpStatus: error.httpStatus,
      code: error.code,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    };
    const message = `the service at ${options.url} answered ${error.message}`;
    if (error.httpStatus === 401 || error.httpStatus === 403) {
      throw new AuthError(message, {
        ...base,
        hint: options.keyHint ?? "use an API key the service's admin gave you",
      });
    }
    if (error.httpStatus === 429) {
      throw new RateLimitError(message, {
        ...base,
        ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      });
    }
    if (error.httpStatus === 402) throw new InsufficientCreditsError(message, base);
    if (error.httpStatus === 400) {
      throw new ValidationError([{ path: "", message: error.message.replace(/^400 [^:]*:\s*/, "") }], {
        message,
      });
    }
    throw new ApiError(message, { ...base, retryable: flags.retryable === true && error.httpStatus >= 500 });
  }
}
