/**
 * `Jimeng`: the SDK's small client over one provider. `submit` checks everything it can before a request is
 * sent (it costs money), `waitFor` polls with backoff, `generate` is submit + wait + optional download.
 */
import { AbortError, JimengError, ValidationError, WaitTimeoutError } from "../errors.js";
import {
  type DownloadedFile,
  type DownloadOptions as MediaDownloadOptions,
  downloadOutputs as saveOutputs,
} from "../media/download.js";
import { resolveImages as resolveLocalImages } from "../media/inputs.js";
import { type GenerationRequest, generationRequestSchema } from "../providers/request.js";
import { checkRequestFields } from "../providers/rules.js";
import type {
  ModelCapability,
  Provider,
  ProviderRequest,
  TaskOutput,
  TaskRef,
  TaskStatus,
} from "../providers/types.js";
import { parseOrThrow } from "../validation.js";
import type { OnTaskEvent } from "./events.js";
import { capOutputs } from "./output-cap.js";
import {
  type Clock,
  type Sleep,
  systemClock,
  systemSleep,
  type TaskResult,
  type WaitOptions,
  waitForTask,
} from "./wait.js";

/** The media layer's input resolver (src/media/inputs.ts): checks local files, URLs and bytes for a model. */
export type ResolveImages = typeof resolveLocalImages;
/** The media layer's downloader (src/media/download.ts): streams each output to a file. */
export type DownloadOutputs = typeof saveOutputs;

export interface MediaFunctions {
  resolveImages: ResolveImages;
  downloadOutputs: DownloadOutputs;
}

export interface JimengOptions {
  provider: Provider;
  /** Time source (ms since the epoch). Default: `Date.now`. */
  clock?: Clock;
  /** Abortable sleep between polls. Default: a timer. */
  sleep?: Sleep;
  /** Jitter source in [0, 1). Default: `Math.random`. */
  random?: () => number;
  /**
   * Longest wait between two polls, in ms. The default schedule starts at the model's shortest plausible
   * duration (seconds); against the emulator, whose tasks finish in milliseconds, cap it (e.g. 100).
   */
  maxPollIntervalMs?: number;
  /** Replaces the media layer (custom storage, tests). Default: the built-in local-file media layer. */
  media?: Partial<MediaFunctions>;
}

export interface JimengSubmitOptions {
  signal?: AbortSignal;
  /** Fires with the task's id as soon as the provider accepted it, before any waiting. Awaited. */
  onSubmitted?: (ref: TaskRef) => void | Promise<void>;
  onEvent?: OnTaskEvent;
}

/**
 * Where and how `generate` saves the outputs: `dir`, `name` (template, default `{date}-{slug}-{index}`),
 * `id` (for `{id}`, e.g. a batch job's id) and the media layer's own knobs (`maxBytes`, `concurrency`,
 * `retries`, `timeoutMs`, `transport`...). The naming context, signal and progress come from the call.
 */
export interface DownloadOptions extends Omit<MediaDownloadOptions, "context" | "signal" | "onProgress"> {
  id?: string;
}

export interface GenerateOptions extends JimengSubmitOptions {
  /** Deadline for waiting and downloading, in ms (Infinity: none). Downloads past it fail with TimeoutError. */
  timeout?: number;
  /** Save the outputs; `false` or absent: return their URLs only. */
  download?: DownloadOptions | false;
  onUpdate?: (status: TaskStatus) => void;
}

export interface GenerateResult extends TaskResult {
  /** The saved files, when `download` was asked for. */
  files?: DownloadedFile[];
}

interface Prepared {
  model: ModelCapability;
  request: ProviderRequest;
}

export class Jimeng {
  readonly provider: Provider;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly resolveImages: ResolveImages;
  private readonly downloadOutputs: DownloadOutputs;

  constructor(options: JimengOptions) {
    this.provider = options.provider;
    this.clock = options.clock ?? systemClock;
    const sleep = options.sleep ?? systemSleep;
    const cap = options.maxPollIntervalMs;
    this.sleep = cap === undefined ? sleep : (ms, signal) => sleep(Math.min(ms, cap), signal);
    this.random = options.random ?? Math.random;
    this.resolveImages = options.media?.resolveImages ?? resolveLocalImages;
    this.downloadOutputs = options.media?.downloadOutputs ?? saveOutputs;
  }

  /**
   * Validates `request` (schema, model, prompt length, the options the model accepts, input images) and
   * submits it. Throws ValidationError before any provider call when something does not fit.
   */
  async submit(request: GenerationRequest, options: JimengSubmitOptions = {}): Promise<TaskRef> {
    const prepared = await this.prepare(request, options.signal);
    return this.send(prepared, options);
  }

  /** One look at a task. */
  getTask(ref: TaskRef, options: { signal?: AbortSignal } = {}): Promise<TaskStatus> {
    return this.provider.get(ref, options);
  }

  /**
   * Polls `ref` until it ends. Resolves when it succeeded; throws TaskFailedError (failed, expired, cancelled),
   * TimeoutError (deadline; carries the task id and the last status) or AbortError.
   */
  async waitFor(ref: TaskRef, options: WaitOptions = {}): Promise<TaskResult> {
    const result = await waitForTask(this.provider, ref, options, this.context());
    options.onEvent?.({ type: "done", ref, status: "succeeded", polls: result.polls, files: 0 });
    return result;
  }

  /** submit + waitFor + (with `download`) save the outputs. */
  async generate(request: GenerationRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { signal, onEvent } = options;
    // The whole call, downloads included, counts against `timeout` (measured in real time: it bounds a wait).
    const startedAt = Date.now();
    const prepared = await this.prepare(request, signal);
    const ref = await this.send(prepared, options);
    const waited = await waitForTask(
      this.provider,
      ref,
      {
        ...(signal ? { signal } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}),
        ...(onEvent ? { onEvent } : {}),
      },
      this.context(prepared.model),
    );
    const capped = capOutputs(waited.status, ref);
    const result = { ...waited, status: capped.status };
    if (capped.ignored > 0) {
      onEvent?.({ type: "ignored", ref, kept: capped.status.outputs.length, ignored: capped.ignored });
    }
    let files: DownloadedFile[] | undefined;
    if (options.download) {
      const { id, ...rest } = options.download;
      const remaining =
        options.timeout !== undefined && Number.isFinite(options.timeout)
          ? Math.max(1, options.timeout - (Date.now() - startedAt))
          : undefined;
      const deadline = remaining !== undefined ? AbortSignal.timeout(remaining) : undefined;
      const downloadSignal = signal && deadline ? AbortSignal.any([signal, deadline]) : (deadline ?? signal);
      try {
        files = await this.saveOutputs(result.status.outputs, {
          ...rest,
          context: {
            prompt: prepared.request.prompt,
            model: prepared.model.id,
            taskId: ref.taskId,
            ...(id !== undefined ? { id } : {}),
          },
          ...(downloadSignal ? { signal: downloadSignal } : {}),
          onProgress: (progress) => onEvent?.({ type: "download", ref, ...progress }),
        });
      } catch (error) {
        if (deadline?.aborted && !signal?.aborted) {
          throw new WaitTimeoutError(
            `the downloads of task ${ref.taskId} did not finish within the timeout`,
            {
              taskId: ref.taskId,
              lastStatus: "succeeded",
              cause: error,
            },
          );
        }
        if (signal?.aborted) {
          throw new AbortError(`stopped downloading the outputs of task ${ref.taskId}`, {
            taskId: ref.taskId,
            cause: error,
          });
        }
        throw error;
      }
      if (signal?.aborted) {
        throw new AbortError(`stopped after downloading task ${ref.taskId}`, { taskId: ref.taskId });
      }
    }
    onEvent?.({ type: "done", ref, status: "succeeded", polls: result.polls, files: files?.length ?? 0 });
    return files ? { ...result, files } : result;
  }

  /**
   * Saves a finished task's outputs through this client's media layer (the built-in one streams them to
   * files); `{date}` in file names follows this client's clock, download backoff its sleep and jitter.
   */
  saveOutputs(outputs: readonly TaskOutput[], options: MediaDownloadOptions): Promise<DownloadedFile[]> {
    return this.downloadOutputs(outputs, {
      now: () => new Date(this.clock.now()),
      sleep: this.sleep,
      random: this.random,
      ...options,
    });
  }

  /**
   * Cancels a task that has not started, where the provider can (Ark video tasks while queued). Throws a
   * JimengError with code CANCEL_UNSUPPORTED when the provider cannot cancel, and the provider's ApiError
   * when it refuses (a running task, for instance).
   */
  async cancel(ref: TaskRef, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.provider.cancel) {
      throw new JimengError(
        `the ${this.provider.name} provider cannot cancel a task; it runs until it ends`,
        {
          code: "CANCEL_UNSUPPORTED",
        },
      );
    }
    await this.provider.cancel(ref, options);
  }

  /** Closes the provider (its connection pool). */
  close(): Promise<void> {
    return this.provider.close();
  }

  private context(model?: ModelCapability) {
    return { clock: this.clock, sleep: this.sleep, random: this.random, ...(model ? { model } : {}) };
  }

  private async prepare(input: GenerationRequest, signal: AbortSignal | undefined): Promise<Prepared> {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const parsed = parseOrThrow(generationRequestSchema, input);
    const model = this.provider.resolveModel(parsed.model, parsed.kind);
    const issues = checkRequestFields(parsed, model);
    if (issues.length) throw new ValidationError(issues);

    const { images: inputs = [], model: _name, ...rest } = parsed;
    // The media layer reads and sniffs the images and checks them against the model rules. A model's
    // `images.min` speaks for the kinds that need references (compose); text-to-image needs none.
    const needsCheck = inputs.length > 0 || parsed.kind !== "generate";
    const images = needsCheck
      ? await this.resolveImages(inputs, model, { kind: parsed.kind, ...(signal ? { signal } : {}) })
      : [];
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    return { model, request: { ...rest, model, images } };
  }

  private async send(prepared: Prepared, options: JimengSubmitOptions): Promise<TaskRef> {
    const { signal, onSubmitted, onEvent } = options;
    let announced: TaskRef | undefined;
    const announce = async (ref: TaskRef) => {
      if (announced) return;
      announced = ref;
      onEvent?.({ type: "submitted", ref });
      await onSubmitted?.(ref);
    };
    const ref = await this.provider.submit(prepared.request, {
      ...(signal ? { signal } : {}),
      onSubmitted: announce,
    });
    // A provider that did not call the hook still gets the id recorded before any waiting.
    await announce(ref);
    return ref;
  }
}
