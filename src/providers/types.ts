/**
 * The provider-neutral vocabulary shared by every provider and everything above them: what a model can do
 * (its capability record), a request with its input images already checked, and the task model
 * (submit → status → outputs). Pure types; no I/O.
 */
import type { ProviderName } from "../errors.js";
import type { ParsedGenerationRequest } from "./request.js";

/** Which command / batch job kind a model serves. */
export type TaskKind = "generate" | "compose" | "video";
export type OutputKind = "image" | "video";
export type ImageFormat = "jpeg" | "png" | "webp";

/** The provider-neutral generation options (CLI flags, batch job fields). A model lists those it accepts. */
export const GENERIC_OPTIONS = [
  "ratio",
  "resolution",
  "size",
  "count",
  "seed",
  "negative",
  "strength",
  "duration",
  "watermark",
] as const;
export type GenericOption = (typeof GENERIC_OPTIONS)[number];

export interface ImageLimits {
  min: number;
  max: number;
  formats: readonly ImageFormat[];
  maxBytes: number;
  /** Largest width and height in pixels. */
  maxSide?: number;
  minShortSide?: number;
  /** Largest long side / short side. */
  maxAspectRatio?: number;
  /** All images must share one aspect ratio (first and last frame). */
  sameAspectRatio?: boolean;
  /**
   * How images reach the provider: URLs only; URLs or inline base64 (visual); URLs or a multipart
   * upload of local files (session).
   */
  transport: "url" | "url-or-base64" | "url-or-upload";
  /** What each position means, e.g. ["first frame", "last frame"]. */
  roles?: readonly string[];
}

export type SessionRegion = "cn" | "us" | "hk" | "jp" | "sg";

/** Everything the CLI, the docs and validation need to know about one model. Declared once per model. */
export interface ModelCapability {
  provider: ProviderName;
  /** The provider's own id: a Visual req_key, or a session model name. */
  id: string;
  aliases: readonly string[];
  title: string;
  kinds: readonly TaskKind[];
  output: OutputKind;
  options: readonly GenericOption[];
  /** Why the model refuses a generic option, where the reason helps the user (shown with the refusal). */
  refusals?: Partial<Record<GenericOption, string>>;
  ratios?: readonly string[];
  resolutions?: readonly string[];
  durations?: readonly number[] | { min: number; max: number };
  images: ImageLimits | null;
  maxPromptLength: number;
  /** Session provider: the regions that offer the model. */
  regions?: readonly SessionRegion[];
  /** Shortest plausible and typical generation time in seconds: the polling schedule's priors. */
  expectedSeconds: { min: number; typical: number };
  /** The model used for a kind when none is named. */
  defaultFor?: readonly TaskKind[];
  /**
   * How `count` works when the model accepts it: "exact" (default; outputs are trimmed to it), or
   * "single-or-set": 1 forces one image, more lets the model decide how many it makes (the prompt drives it).
   */
  countMode?: "exact" | "single-or-set";
  notes?: string;
}

/** An input image after the media layer checked it: a URL passed as is, or local bytes with their header facts. */
export type ResolvedImage =
  | { source: "url"; url: string }
  | {
      source: "bytes";
      bytes: Uint8Array;
      format: ImageFormat;
      width: number;
      height: number;
      /** A display name for messages and multipart uploads (never a full path). */
      name: string;
    };

/** A generation request with its model chosen and its images resolved: what a provider submits. */
export interface ProviderRequest extends Omit<ParsedGenerationRequest, "images" | "model"> {
  model: ModelCapability;
  images: ResolvedImage[];
}

export interface TaskRef {
  provider: ProviderName;
  /** Kept as a string end to end: Visual task ids exceed 2^53. */
  taskId: string;
  model: string;
  kind: TaskKind;
  /** ISO 8601. */
  submittedAt: string;
  /**
   * Session provider: a short hash naming the session that submitted the task (never the session id), so a
   * resumed process polls with the same account. History ids belong to the account that made them.
   */
  account?: string;
  /**
   * Outputs to keep, when the request asked for fewer than the provider makes (session servers always make
   * about 4 images): carried in the ref so that a resumed process trims the same way.
   */
  count?: number;
}

export interface TaskOutput {
  url?: string;
  base64?: string;
  contentType?: string;
  /**
   * Headers the download of `url` must send (a shared service's `Authorization`). Credentials: only the
   * downloader reads them; nothing prints or stores them.
   */
  headers?: Readonly<Record<string, string>>;
}

export interface TaskFailure {
  code: string | number;
  message: string;
  requestId?: string;
}

export type TaskState = "queued" | "running" | "succeeded" | "failed" | "expired" | "cancelled";

interface StatusBase {
  ref: TaskRef;
  outputs: TaskOutput[];
  requestId?: string;
}

export type TaskStatus =
  | (StatusBase & {
      status: "queued" | "running" /** Server hint for the next poll, in ms. */;
      retryAfterMs?: number;
    })
  | (StatusBase & { status: "succeeded" })
  | (StatusBase & { status: "failed" | "expired" | "cancelled"; error: TaskFailure });

export interface SubmitOptions {
  signal?: AbortSignal;
  /** Fires with the task's id as soon as the provider accepted it, before any waiting. */
  onSubmitted?: (ref: TaskRef) => void | Promise<void>;
}

/** One poll of a task. */
export interface GetOptions {
  signal?: AbortSignal;
  /** Milliseconds this poll may take, retries included: the time left of the caller's wait. */
  timeout?: number;
}

/** What both providers implement; the task engine, the CLI and batches only talk to this. */
export interface Provider {
  readonly name: ProviderName;
  readonly models: readonly ModelCapability[];
  /**
   * Where the provider sends requests (scheme, host and path; never credentials). Batch journals record it with
   * each task, so a resume polls a task where it was submitted.
   */
  readonly endpoint?: string;
  /** A model by id or alias, or the default for `kind`; throws ValidationError naming the alternatives. */
  resolveModel(name: string | undefined, kind: TaskKind): ModelCapability;
  /** Checks the request against the model (throws ValidationError before any request) and submits it. */
  submit(request: ProviderRequest, options?: SubmitOptions): Promise<TaskRef>;
  get(ref: TaskRef, options?: GetOptions): Promise<TaskStatus>;
  /**
   * Cancels a submitted task, where the provider can (providers without this method cannot). Resolves once
   * the provider accepted; throws (an ApiError) when it refused, e.g. for a task already running.
   */
  cancel?(ref: TaskRef, options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}
