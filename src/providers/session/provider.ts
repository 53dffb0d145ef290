/**
 * The session provider: jimeng-api compatible servers behind the provider-neutral `Provider` interface.
 * Submits go through the async history_id routes; `get` is one query, mapped to a TaskStatus.
 */
import { ValidationError } from "../../errors.js";
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
import { SESSION_MODELS } from "./catalog.js";
import { SessionClient, type SessionClientOptions } from "./client.js";
import { mapAsyncStatus } from "./mapping.js";
import { submitKindOf, toSessionNativeRequest } from "./native.js";

export type SessionProviderOptions = SessionClientOptions | { client: SessionClient };

export class SessionProvider implements Provider {
  readonly name = "session" as const;
  readonly models: readonly ModelCapability[] = SESSION_MODELS;
  readonly client: SessionClient;
  private readonly ownsClient: boolean;

  constructor(options: SessionProviderOptions) {
    if ("client" in options) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      this.client = new SessionClient(options);
      this.ownsClient = true;
    }
  }

  get endpoint(): string {
    return this.client.baseUrl;
  }

  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability {
    const forKind = this.models.filter((model) => model.kinds.includes(kind));
    if (name === undefined) {
      const fallback = forKind.find((model) => model.defaultFor?.includes(kind)) ?? forKind[0];
      if (fallback) return fallback;
    } else {
      const wanted = name.trim().toLowerCase();
      const found = this.models.find(
        (model) => model.id === wanted || model.aliases.some((alias) => alias.toLowerCase() === wanted),
      );
      if (found?.kinds.includes(kind)) return found;
      if (found) {
        throw new ValidationError([
          {
            path: "model",
            message: `${found.id} does not do ${kind}; session models that do: ${forKind.map((m) => m.id).join(", ")}`,
          },
        ]);
      }
    }
    throw new ValidationError([
      {
        path: "model",
        message: `unknown session model ${JSON.stringify(name)}; for ${kind}: ${forKind.map((m) => m.id).join(", ")}`,
      },
    ]);
  }

  /**
   * Validates the request against the model (no request is sent when it does not fit), submits it through the
   * async route, and calls `onSubmitted` with the history id before returning.
   */
  async submit(request: ProviderRequest, options: SubmitOptions = {}): Promise<TaskRef> {
    assertFitsModel(request);
    const native = toSessionNativeRequest(request);
    const submitted = await this.client.submitNative(
      native,
      options.signal ? { signal: options.signal } : {},
    );
    const ref: TaskRef = {
      provider: "session",
      taskId: submitted.historyId,
      model: request.model.id,
      kind: request.kind,
      submittedAt: new Date().toISOString(),
      account: submitted.account,
      ...(request.count !== undefined ? { count: request.count } : {}),
    };
    await options.onSubmitted?.(ref);
    return ref;
  }

  /** One look at the task. Outputs are trimmed to the request's `count` (carried in the ref). */
  async get(ref: TaskRef, options: GetOptions = {}): Promise<TaskStatus> {
    const answer = await this.client.query(ref.taskId, {
      kind: submitKindOf(ref.kind),
      ...(ref.account ? { account: ref.account } : {}),
      ...(ref.count !== undefined ? { count: ref.count } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    const outputs: TaskOutput[] = (answer.results ?? []).map((result) =>
      ref.kind === "video" ? { url: result.url, contentType: "video/mp4" } : { url: result.url },
    );
    const mapped = mapAsyncStatus(answer.status, answer.failCode, outputs.length);
    if (mapped.state === "succeeded") return { ref, status: "succeeded", outputs };
    if (mapped.state === "failed") {
      return { ref, status: "failed", outputs: [], error: { code: mapped.code, message: mapped.message } };
    }
    return { ref, status: "running", outputs: [] };
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}
