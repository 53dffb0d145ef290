/**
 * The session provider's model registry and request shapes: one capability
 * record per model, one zod schema per route, the ratio × resolution pixel table, and pure functions that
 * turn a request into the native body (JSON, or multipart parts when local bytes are uploaded).
 */
import { z } from "zod";
import { ValidationError, type ValidationIssue } from "../../errors.js";
import { parseOrThrow } from "../../validation.js";
import type {
  GenericOption,
  ImageFormat,
  ImageLimits,
  ModelCapability,
  ProviderRequest,
  SessionRegion,
  TaskKind,
} from "../types.js";

/** Which async/blocking route family a request goes to. */
export type SubmitKind = "image" | "compose" | "video";

export const ALL_REGIONS: readonly SessionRegion[] = ["cn", "us", "hk", "jp", "sg"];
const NOT_US: readonly SessionRegion[] = ["cn", "hk", "jp", "sg"];
const INTERNATIONAL: readonly SessionRegion[] = ["us", "hk", "jp", "sg"];
const ASIA_INTL: readonly SessionRegion[] = ["hk", "jp", "sg"];

export const IMAGE_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"] as const;
export const IMAGE_RESOLUTIONS = ["1k", "2k", "4k"] as const;
export const VIDEO_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"] as const;
export const VIDEO_RESOLUTIONS = ["720p", "1080p"] as const;
export type ImageRatio = (typeof IMAGE_RATIOS)[number];
export type ImageResolution = (typeof IMAGE_RESOLUTIONS)[number];

/** koa-body's per-file limit on jimeng-api. */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/** Upstream makes about 4 images per call (and charges for all of them); `count` keeps the first N. */
export const MAX_IMAGE_COUNT = 4;
/**
 * The server documents no prompt limit; this is a client-side sanity cap only, well above anything the
 * Jimeng web UI accepts.
 */
const MAX_PROMPT_LENGTH = 5000;
/** Durations the async video route accepts, whatever the model. */
export const ASYNC_VIDEO_DURATIONS: readonly number[] = [4, 5, 8, 10, 12];

interface ImageModelSpec {
  id: string;
  key: string;
  title: string;
  aliases: readonly string[];
  regions: readonly SessionRegion[];
  /** `intelligent_ratio` only takes effect on the 4.x / 5.0 family. */
  intelligentRatio: boolean;
  expectedSeconds: { min: number; typical: number };
  notes?: string;
}

interface VideoModelSpec {
  id: string;
  key: string;
  title: string;
  aliases: readonly string[];
  regions: readonly SessionRegion[];
  /** What the blocking route accepts. */
  durations: readonly number[] | { min: number; max: number };
  defaultDuration: number;
  /** 720p/1080p is only sent upstream for these models. */
  resolutions: boolean;
  expectedSeconds: { min: number; typical: number };
  notes?: string;
}

const IMAGE_MODELS: readonly ImageModelSpec[] = [
  {
    id: "jimeng-5.0",
    key: "high_aes_general_v50",
    title: "Jimeng 5.0 (Seedream 5.0 Lite)",
    aliases: ["5.0", "seedream-5.0-lite"],
    regions: NOT_US,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 40 },
  },
  {
    id: "jimeng-4.6",
    key: "high_aes_general_v42",
    title: "Jimeng 4.6 (Seedream 4.6)",
    aliases: ["4.6", "seedream-4.6"],
    regions: NOT_US,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 40 },
  },
  {
    id: "jimeng-4.5",
    key: "high_aes_general_v40l",
    title: "Jimeng 4.5 (Seedream 4.5)",
    aliases: ["4.5", "seedream-4.5"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 35 },
  },
  {
    id: "jimeng-4.1",
    key: "high_aes_general_v41",
    title: "Jimeng 4.1 (Seedream 4.0 Design)",
    aliases: ["4.1"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 35 },
  },
  {
    id: "jimeng-4.0",
    key: "high_aes_general_v40",
    title: "Jimeng 4.0 (Seedream 4.0)",
    aliases: ["4.0", "seedream-4.0"],
    regions: ALL_REGIONS,
    intelligentRatio: true,
    expectedSeconds: { min: 10, typical: 30 },
  },
  {
    id: "jimeng-3.1",
    key: "high_aes_general_v30l_art_fangzhou:general_v3.0_18b",
    title: "Jimeng 3.1 (Seedream 3.0 art)",
    aliases: ["3.1"],
    regions: ["cn"],
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 25 },
  },
  {
    id: "jimeng-3.0",
    key: "high_aes_general_v30l:general_v3.0_18b",
    title: "Jimeng 3.0 (Seedream 3.0)",
    aliases: ["3.0", "seedream-3.0"],
    regions: ALL_REGIONS,
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 25 },
  },
  {
    id: "nanobanana",
    key: "external_model_gemini_flash_image_v25",
    title: "Nano Banana (Gemini 2.5 Flash Image), international sites only",
    aliases: ["nano-banana"],
    regions: INTERNATIONAL,
    intelligentRatio: false,
    expectedSeconds: { min: 8, typical: 30 },
    notes:
      "International only. On us- sessions the server forces 1024×1024; on hk/jp/sg it forces 1k and keeps the ratio. Often returns fewer than 4 images.",
  },
  {
    id: "nanobananapro",
    key: "dreamina_image_lib_1",
    title: "Nano Banana Pro, international sites only",
    aliases: ["nano-banana-pro"],
    regions: INTERNATIONAL,
    intelligentRatio: false,
    expectedSeconds: { min: 15, typical: 60 },
    notes:
      "International only; free accounts may fail with fail_code 121212 (entitlement closed upstream). 4k has its own pixel table.",
  },
];

const VIDEO_MODELS: readonly VideoModelSpec[] = [
  {
    id: "jimeng-video-seedance-2.0",
    key: "dreamina_seedance_40_pro",
    title: "Seedance 2.0",
    aliases: ["seedance-2.0"],
    regions: ["cn"],
    durations: { min: 4, max: 15 },
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 300 },
    notes: "Risk control (upstream ret 4013) hits this model most often.",
  },
  {
    id: "jimeng-video-seedance-2.0-fast",
    key: "dreamina_seedance_40",
    title: "Seedance 2.0 Fast",
    aliases: ["seedance-2.0-fast"],
    regions: ["cn"],
    durations: { min: 4, max: 15 },
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 45, typical: 180 },
  },
  {
    id: "jimeng-video-3.5-pro",
    key: "dreamina_ic_generate_video_model_vgfm_3.5_pro",
    title: "Jimeng Video 3.5 Pro (Seedance 1.5 Pro)",
    aliases: ["video-3.5-pro", "seedance-1.5-pro"],
    regions: ALL_REGIONS,
    durations: [5, 10, 12],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-3.0-pro",
    key: "dreamina_ic_generate_video_model_vgfm_3.0_pro",
    title: "Jimeng Video 3.0 Pro (Seedance 1.0)",
    aliases: ["video-3.0-pro", "seedance-1.0"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-3.0",
    key: "dreamina_ic_generate_video_model_vgfm_3.0",
    title: "Jimeng Video 3.0 (Seedance 1.0 mini)",
    aliases: ["video-3.0", "seedance-1.0-mini"],
    regions: ALL_REGIONS,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: true,
    expectedSeconds: { min: 30, typical: 120 },
  },
  {
    id: "jimeng-video-3.0-fast",
    key: "dreamina_ic_generate_video_model_vgfm_3.0_fast",
    title: "Jimeng Video 3.0 Fast (Seedance 1.0 Fast)",
    aliases: ["video-3.0-fast", "seedance-1.0-fast"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: true,
    expectedSeconds: { min: 20, typical: 90 },
  },
  {
    id: "jimeng-video-2.0-pro",
    key: "dreamina_ic_generate_video_model_vgfm1.0",
    title: "Jimeng Video 2.0 Pro",
    aliases: ["video-2.0-pro"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 40, typical: 150 },
  },
  {
    id: "jimeng-video-2.0",
    key: "dreamina_ic_generate_video_model_vgfm_lite",
    title: "Jimeng Video 2.0",
    aliases: ["video-2.0"],
    regions: NOT_US,
    durations: [5, 10],
    defaultDuration: 5,
    resolutions: false,
    expectedSeconds: { min: 30, typical: 120 },
  },
  {
    id: "jimeng-video-veo3",
    key: "dreamina_veo3_generate_video",
    title: "Veo 3 (hk/jp/sg sessions only)",
    aliases: ["veo3"],
    regions: ASIA_INTL,
    durations: [8],
    defaultDuration: 8,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 180 },
  },
  {
    id: "jimeng-video-veo3.1",
    key: "dreamina_veo3.1_generate_video",
    title: "Veo 3.1 (hk/jp/sg sessions only)",
    aliases: ["veo3.1"],
    regions: ASIA_INTL,
    durations: [8],
    defaultDuration: 8,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 180 },
  },
  {
    id: "jimeng-video-sora2",
    key: "dreamina_sora2_generate_video",
    title: "Sora 2 (hk/jp/sg sessions only)",
    aliases: ["sora2"],
    regions: ASIA_INTL,
    durations: [4, 8, 12],
    defaultDuration: 4,
    resolutions: false,
    expectedSeconds: { min: 60, typical: 240 },
  },
];

export const DEFAULT_IMAGE_MODEL = "jimeng-4.5";
export const DEFAULT_VIDEO_MODEL = "jimeng-video-3.5-pro";

const IMAGE_FORMATS: readonly ImageFormat[] = ["jpeg", "png", "webp"];

const COMPOSE_IMAGES: ImageLimits = {
  min: 1,
  max: 10,
  formats: IMAGE_FORMATS,
  maxBytes: MAX_UPLOAD_BYTES,
  transport: "url-or-upload",
};

const VIDEO_FRAMES: ImageLimits = {
  min: 0,
  max: 2,
  formats: IMAGE_FORMATS,
  maxBytes: MAX_UPLOAD_BYTES,
  transport: "url-or-upload",
  roles: ["first frame", "last frame"],
};

/** The durations a model allows on the blocking route, as a list. */
export function syncDurations(spec: VideoModelSpec): number[] {
  const allowed = spec.durations;
  if (Array.isArray(allowed)) return [...allowed];
  const { min, max } = allowed as { min: number; max: number };
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/**
 * The durations a model allows on the async route: the model's own rule intersected with the async route's
 * {4,5,8,10,12}. Seedance 2.0's 4–15 becomes 4/5/8/10/12; every other model keeps its own list.
 */
export function asyncDurations(spec: VideoModelSpec): number[] {
  return syncDurations(spec).filter((d) => ASYNC_VIDEO_DURATIONS.includes(d));
}

function imageCapability(spec: ImageModelSpec): ModelCapability {
  return {
    provider: "session",
    id: spec.id,
    aliases: spec.aliases,
    title: spec.title,
    kinds: ["generate", "compose"],
    output: "image",
    options: ["ratio", "resolution", "count", "negative", "strength"],
    ratios: IMAGE_RATIOS,
    resolutions: IMAGE_RESOLUTIONS,
    images: COMPOSE_IMAGES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    regions: spec.regions,
    expectedSeconds: spec.expectedSeconds,
    ...(spec.id === DEFAULT_IMAGE_MODEL ? { defaultFor: ["generate", "compose"] as const } : {}),
    notes: [
      "Upstream makes about 4 images per call and charges for all of them; count keeps the first N.",
      "Image limits apply to compose; generate takes no images.",
      spec.notes,
    ]
      .filter(Boolean)
      .join(" "),
  };
}

function videoCapability(spec: VideoModelSpec): ModelCapability {
  const options: GenericOption[] = ["ratio", "duration"];
  if (spec.resolutions) options.push("resolution");
  return {
    provider: "session",
    id: spec.id,
    aliases: spec.aliases,
    title: spec.title,
    kinds: ["video"],
    output: "video",
    options,
    ratios: VIDEO_RATIOS,
    ...(spec.resolutions ? { resolutions: VIDEO_RESOLUTIONS } : {}),
    durations: asyncDurations(spec),
    images: VIDEO_FRAMES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    regions: spec.regions,
    expectedSeconds: spec.expectedSeconds,
    ...(spec.id === DEFAULT_VIDEO_MODEL ? { defaultFor: ["video"] as const } : {}),
    notes: [
      `Durations are those of the async route; the blocking route also allows ${describeDurations(spec.durations)} s.`,
      "With frame images the video follows the image's aspect ratio.",
      spec.notes,
    ]
      .filter(Boolean)
      .join(" "),
  };
}

function describeDurations(durations: VideoModelSpec["durations"]): string {
  return Array.isArray(durations)
    ? durations.join("/")
    : `${(durations as { min: number }).min}–${(durations as { max: number }).max}`;
}

/** Every session model's capability record, images first. */
export const SESSION_MODELS: readonly ModelCapability[] = [
  ...IMAGE_MODELS.map(imageCapability),
  ...VIDEO_MODELS.map(videoCapability),
];

const IMAGE_MODEL_IDS = IMAGE_MODELS.map((m) => m.id) as [string, ...string[]];
const VIDEO_MODEL_IDS = VIDEO_MODELS.map((m) => m.id) as [string, ...string[]];

export function imageModelSpec(id: string): ImageModelSpec | undefined {
  return IMAGE_MODELS.find((m) => m.id === id);
}

export function videoModelSpec(id: string): VideoModelSpec | undefined {
  return VIDEO_MODELS.find((m) => m.id === id);
}

/** The regions that offer a model (undefined for an unknown model). */
export function modelRegions(id: string): readonly SessionRegion[] | undefined {
  return (imageModelSpec(id) ?? videoModelSpec(id))?.regions;
}

/** The upstream `model_req_key` behind a public model name. */
export function internalModelKey(id: string): string | undefined {
  return (imageModelSpec(id) ?? videoModelSpec(id))?.key;
}

// ---------------------------------------------------------------------------------------------------------
// Pixel sizes

const RATIO_CODES: Record<ImageRatio, number> = {
  "1:1": 1,
  "4:3": 4,
  "3:4": 2,
  "16:9": 3,
  "9:16": 5,
  "3:2": 7,
  "2:3": 6,
  "21:9": 8,
};

type SizeTable = Record<ImageRatio, readonly [number, number]>;

const SIZES: Record<ImageResolution, SizeTable> = {
  // The server's 1k table swaps 4:3 and 3:4 (portrait 4:3); reproduced as it is, since that is what you get.
  "1k": {
    "1:1": [1024, 1024],
    "4:3": [768, 1024],
    "3:4": [1024, 768],
    "16:9": [1024, 576],
    "9:16": [576, 1024],
    "3:2": [1024, 682],
    "2:3": [682, 1024],
    "21:9": [1195, 512],
  },
  "2k": {
    "1:1": [2048, 2048],
    "4:3": [2304, 1728],
    "3:4": [1728, 2304],
    "16:9": [2560, 1440],
    "9:16": [1440, 2560],
    "3:2": [2496, 1664],
    "2:3": [1664, 2496],
    "21:9": [3024, 1296],
  },
  "4k": {
    "1:1": [4096, 4096],
    "4:3": [4608, 3456],
    "3:4": [3456, 4608],
    "16:9": [5120, 2880],
    "9:16": [2880, 5120],
    "3:2": [4992, 3328],
    "2:3": [3328, 4992],
    "21:9": [6048, 2592],
  },
};

const NANOBANANAPRO_4K: SizeTable = {
  "1:1": [4096, 4096],
  "4:3": [4693, 3520],
  "3:4": [3520, 4693],
  "16:9": [5404, 3040],
  "9:16": [3040, 5404],
  "3:2": [4992, 3328],
  "2:3": [3328, 4992],
  "21:9": [6197, 2656],
};

export interface PixelSize {
  width: number;
  height: number;
  /** The upstream `image_ratio` code (4k adds 100, except nanobananapro). */
  ratioCode: number;
  resolution: ImageResolution;
}

/** The pixel size the server asks upstream for, including its per-model and per-region special cases. */
export function imagePixelSize(
  model: string,
  ratio: ImageRatio = "1:1",
  resolution: ImageResolution = "2k",
  region: SessionRegion = "cn",
): PixelSize {
  if (model === "nanobanana" && region === "us") {
    return { width: 1024, height: 1024, ratioCode: 1, resolution: "2k" };
  }
  const effective: ImageResolution = model === "nanobanana" && region !== "cn" ? "1k" : resolution;
  const code = RATIO_CODES[ratio];
  if (model === "nanobananapro" && effective === "4k") {
    const [width, height] = NANOBANANAPRO_4K[ratio];
    return { width, height, ratioCode: code, resolution: "4k" };
  }
  const [width, height] = SIZES[effective][ratio];
  return { width, height, ratioCode: effective === "4k" ? 100 + code : code, resolution: effective };
}

// ---------------------------------------------------------------------------------------------------------
// Route schemas

/**
 * An input image for compositions and video frames: an http(s) URL, a data: URL, a local file path,
 * `{ url }`, raw bytes, or `{ bytes, name }`.
 */
const bytesSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, "must be bytes");

export const imageSourceSchema = z.union([
  z.string().min(1, "must not be empty"),
  bytesSchema,
  z.strictObject({ url: z.string().min(1) }),
  z.strictObject({ bytes: bytesSchema, name: z.string().min(1).optional() }),
]);
export type ImageSource = z.input<typeof imageSourceSchema>;

const prompt = z.string().trim().min(1, "must not be empty").max(MAX_PROMPT_LENGTH);
const responseFormat = z.enum(["url", "b64_json"]);

const imageFields = {
  prompt,
  model: z.enum(IMAGE_MODEL_IDS).optional(),
  ratio: z.enum(IMAGE_RATIOS).optional(),
  resolution: z.enum(IMAGE_RESOLUTIONS).optional(),
  negative_prompt: z.string().optional(),
  sample_strength: z.number().min(0).max(1).optional(),
  /** Let upstream infer the ratio from the prompt (jimeng-4.x / 5.0 only). */
  intelligent_ratio: z.boolean().optional(),
  response_format: responseFormat.optional(),
  /**
   * Client-side only, never sent: keep the first N images. Upstream still makes (and charges for) ~4.
   */
  count: z.number().int().min(1).max(MAX_IMAGE_COUNT).optional(),
};

function checkIntelligentRatio(
  body: { model?: string | undefined; intelligent_ratio?: boolean | undefined },
  ctx: z.RefinementCtx,
): void {
  const model = body.model ?? DEFAULT_IMAGE_MODEL;
  if (body.intelligent_ratio && !imageModelSpec(model)?.intelligentRatio) {
    ctx.addIssue({
      code: "custom",
      path: ["intelligent_ratio"],
      message: `only takes effect on jimeng-4.0/4.1/4.5/4.6/5.0, not on ${model}`,
    });
  }
}

/** `POST /v1/images/generations` and `POST /v1/async/images/generations`. */
export const imageGenerationSchema = z.strictObject(imageFields).superRefine(checkIntelligentRatio);

/** `POST /v1/images/compositions` and `POST /v1/async/images/compositions`. */
export const imageCompositionSchema = z
  .strictObject({
    ...imageFields,
    images: z.array(imageSourceSchema).min(1, "at least 1 image").max(10, "at most 10 images"),
  })
  .superRefine(checkIntelligentRatio);

const videoFields = {
  prompt,
  model: z.enum(VIDEO_MODEL_IDS).optional(),
  ratio: z.enum(VIDEO_RATIOS).optional(),
  resolution: z.enum(VIDEO_RESOLUTIONS).optional(),
  duration: z.number().int("must be a whole number of seconds").optional(),
  /** First and last frame (in that order), as URLs or local images. */
  images: z.array(imageSourceSchema).max(2, "at most 2 frames (first and last)").optional(),
  /** The server's own name for frame URLs; merged after `images`. */
  file_paths: z.array(z.string().min(1)).max(2).optional(),
  response_format: responseFormat.optional(),
};

function videoRules(route: "sync" | "async") {
  return (
    body: {
      model?: string | undefined;
      duration?: number | undefined;
      resolution?: string | undefined;
      images?: unknown[] | undefined;
      file_paths?: string[] | undefined;
    },
    ctx: z.RefinementCtx,
  ): void => {
    const spec = videoModelSpec(body.model ?? DEFAULT_VIDEO_MODEL);
    if (!spec) return;
    if (body.duration !== undefined) {
      const allowed = route === "sync" ? syncDurations(spec) : asyncDurations(spec);
      if (!allowed.includes(body.duration)) {
        ctx.addIssue({
          code: "custom",
          path: ["duration"],
          message: `${spec.id} allows ${allowed.join("/")} s${route === "async" ? " on the async route" : ""}, not ${body.duration}`,
        });
      }
    }
    if (body.resolution !== undefined && !spec.resolutions) {
      ctx.addIssue({
        code: "custom",
        path: ["resolution"],
        message: `only jimeng-video-3.0 and jimeng-video-3.0-fast take a resolution, not ${spec.id}`,
      });
    }
    const frames = (body.images?.length ?? 0) + (body.file_paths?.length ?? 0);
    if (frames > 2) {
      ctx.addIssue({ code: "custom", path: ["images"], message: "at most 2 frames (first and last)" });
    }
  };
}

/** `POST /v1/videos/generations` (durations per model). */
export const videoGenerationSchema = z.strictObject(videoFields).superRefine(videoRules("sync"));

/** `POST /v1/async/videos/generations`: durations limited to {4,5,8,10,12} as well. */
export const asyncVideoGenerationSchema = z.strictObject(videoFields).superRefine(videoRules("async"));

export type ImageGenerationBody = z.input<typeof imageGenerationSchema>;
export type ImageCompositionBody = z.input<typeof imageCompositionSchema>;
export type VideoGenerationBody = z.input<typeof videoGenerationSchema>;

const SIZE_KEYS = ["size", "width", "height"] as const;

/**
 * Parses a route body, refusing `size`/`width`/`height` with the server's own explanation first
 * (the server answers -1000 "不支持的参数: size。请使用 ratio 和 resolution 参数控制图像尺寸。").
 */
export function parseRouteBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body !== null && typeof body === "object") {
    const issues: ValidationIssue[] = [];
    for (const key of SIZE_KEYS) {
      if (key in body) {
        issues.push({
          path: key,
          message: `not supported by jimeng-api servers: use ratio and resolution to control the image size (the server answers "不支持的参数: ${key}。请使用 ratio 和 resolution 参数控制图像尺寸。")`,
        });
      }
    }
    if (issues.length > 0) throw new ValidationError(issues);
  }
  return parseOrThrow(schema, body);
}

export function schemaFor(kind: SubmitKind, route: "sync" | "async"): z.ZodType {
  if (kind === "image") return imageGenerationSchema;
  if (kind === "compose") return imageCompositionSchema;
  return route === "sync" ? videoGenerationSchema : asyncVideoGenerationSchema;
}

// ---------------------------------------------------------------------------------------------------------
// Images → upload parts

/** An input image ready for the wire: a URL the server downloads, or bytes uploaded as multipart. */
export type UploadImage =
  | { source: "url"; url: string }
  | { source: "bytes"; bytes: Uint8Array; name: string; contentType: string; format: ImageFormat };

/** The image format from the first bytes, or undefined when it is none we accept. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (
    bytes.length >= 12 &&
    Buffer.from(bytes.subarray(0, 4)).toString("latin1") === "RIFF" &&
    Buffer.from(bytes.subarray(8, 12)).toString("latin1") === "WEBP"
  )
    return "webp";
  return undefined;
}

const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
};

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** True for a string image source that names a local file (the caller reads it). */
export function isLocalPath(source: ImageSource): source is string {
  return typeof source === "string" && !isHttpUrl(source) && !source.startsWith("data:");
}

/**
 * Checks one image and turns it into an upload part. Pure: local file paths must already have been read
 * (`{ bytes, name }`); a path string here is a ValidationError.
 */
export function toUploadImage(source: ImageSource, path: string): UploadImage {
  if (typeof source === "string" && isHttpUrl(source)) return { source: "url", url: source };
  if (typeof source === "object" && !(source instanceof Uint8Array) && "url" in source) {
    if (!isHttpUrl(source.url)) throw new ValidationError([{ path, message: "must be an http(s) URL" }]);
    return { source: "url", url: source.url };
  }
  let bytes: Uint8Array;
  let name: string | undefined;
  if (typeof source === "string") {
    const match = /^data:[^;,]*(;base64)?,(.*)$/s.exec(source);
    if (!match) throw new ValidationError([{ path, message: "a local path must be read before upload" }]);
    bytes = match[1]
      ? Buffer.from(match[2] ?? "", "base64")
      : Buffer.from(decodeURIComponent(match[2] ?? ""));
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else {
    bytes = source.bytes;
    name = source.name;
  }
  return checkedBytes(bytes, name, path);
}

function checkedBytes(bytes: Uint8Array, name: string | undefined, path: string): UploadImage {
  if (bytes.byteLength === 0) throw new ValidationError([{ path, message: "the image is empty" }]);
  if (bytes.byteLength > MAX_UPLOAD_BYTES) {
    throw new ValidationError([
      {
        path,
        message: `the image is ${(bytes.byteLength / 1024 / 1024).toFixed(1)} MB; jimeng-api accepts at most 100 MB per file`,
      },
    ]);
  }
  const format = sniffImageFormat(bytes);
  if (!format) throw new ValidationError([{ path, message: "not a JPEG, PNG or WebP image" }]);
  const ext = format === "jpeg" ? "jpg" : format;
  return {
    source: "bytes",
    bytes,
    name: safeFileName(name, path, ext),
    contentType: CONTENT_TYPES[format],
    format,
  };
}

/** A display file name only (no directories), with a fallback. */
function safeFileName(name: string | undefined, path: string, ext: string): string {
  const base = name?.split(/[\\/]/).pop()?.trim();
  if (base) return base;
  return `${path.replace(/\W+/g, "-")}.${ext}`;
}

// ---------------------------------------------------------------------------------------------------------
// Native request building

export interface NativeFile {
  field: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export type NativeBody =
  | { type: "json"; json: Record<string, unknown> }
  | { type: "multipart"; fields: [string, string][]; files: NativeFile[] };

export interface NativeRequest {
  kind: SubmitKind;
  /** The model the body names (always explicit, so a CN server never silently falls back). */
  model: string;
  /** Client-side: keep the first N outputs. */
  count?: number;
  body: NativeBody;
}

export type ParsedBody = Record<string, unknown> & { model?: string; count?: number };

/** A parsed body's input images in order: `images`, then video `file_paths` (URLs). */
export function imageSourcesOf(parsed: ParsedBody): ImageSource[] {
  const images = (parsed.images as ImageSource[] | undefined) ?? [];
  const paths = (parsed.file_paths as string[] | undefined) ?? [];
  return [...images, ...paths];
}

/**
 * Builds the wire body from a parsed route body and its images (already turned into upload parts).
 * URLs only → JSON (`images: [url]` for compositions, `file_paths` for video frames); local bytes only →
 * multipart (repeated `images` field, or `image_file_1`/`image_file_2` for frames). A mix is refused: the
 * server ignores URLs once files are uploaded.
 */
export function buildNativeRequest(
  kind: SubmitKind,
  parsed: ParsedBody,
  images: UploadImage[],
): NativeRequest {
  const { count, images: _images, file_paths: _paths, ...rest } = parsed;
  const model =
    (parsed.model as string | undefined) ?? (kind === "video" ? DEFAULT_VIDEO_MODEL : DEFAULT_IMAGE_MODEL);
  const fields: Record<string, unknown> = { ...rest, model };
  if (kind === "video" && fields.duration === undefined) {
    fields.duration = videoModelSpec(model)?.defaultDuration ?? 5;
  }
  const request = (body: NativeBody): NativeRequest => ({
    kind,
    model,
    ...(typeof count === "number" ? { count } : {}),
    body,
  });

  if (kind === "image" || images.length === 0) return request({ type: "json", json: fields });
  const urls = images.filter((i): i is Extract<UploadImage, { source: "url" }> => i.source === "url");
  const files = images.filter((i): i is Extract<UploadImage, { source: "bytes" }> => i.source === "bytes");
  if (urls.length > 0 && files.length > 0) {
    throw new ValidationError([
      {
        path: "images",
        message:
          "mixes URLs and local images; jimeng-api ignores URLs once files are uploaded, so give all as URLs or all as local files",
      },
    ]);
  }
  if (files.length === 0) {
    const list = urls.map((u) => u.url);
    return request({
      type: "json",
      json: kind === "compose" ? { ...fields, images: list } : { ...fields, file_paths: list },
    });
  }
  const textFields: [string, string][] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    textFields.push([name, typeof value === "string" ? value : String(value)]);
  }
  return request({
    type: "multipart",
    fields: textFields,
    files: files.map((file, index) => ({
      field: kind === "compose" ? "images" : `image_file_${index + 1}`,
      name: file.name,
      contentType: file.contentType,
      bytes: file.bytes,
    })),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Generic request → native request (the provider's path)

const OPTION_EXPLANATIONS: Partial<Record<GenericOption, string>> = {
  size: "jimeng-api servers refuse exact sizes (不支持的参数: size); use ratio and resolution instead",
  seed: "jimeng-api servers always pick a random seed",
  watermark: "jimeng-api servers cannot switch the watermark",
  count: "the server makes one output for this kind",
};

/** Maps the provider-neutral task kind to the session route family. */
export function submitKindOf(kind: TaskKind): SubmitKind {
  return kind === "generate" ? "image" : kind;
}

/**
 * The native request for a generic ProviderRequest (images already resolved). Pure. Throws ValidationError
 * naming the option and the model for generic options the model does not accept, and for anything the
 * route's schema refuses.
 */
export function toNativeRequest(request: ProviderRequest): NativeRequest {
  const model = request.model;
  if (model.provider !== "session") {
    throw new ValidationError([{ path: "model", message: `${model.id} is not a session model` }]);
  }
  if (!model.kinds.includes(request.kind)) {
    throw new ValidationError([
      {
        path: "model",
        message: `${model.id} does not do ${request.kind} (it does ${model.kinds.join(", ")})`,
      },
    ]);
  }
  const given: [GenericOption, unknown][] = [
    ["ratio", request.ratio],
    ["resolution", request.resolution],
    ["size", request.size],
    ["count", request.count],
    ["seed", request.seed],
    ["negative", request.negative],
    ["strength", request.strength],
    ["duration", request.duration],
    ["watermark", request.watermark],
  ];
  const issues: ValidationIssue[] = [];
  for (const [option, value] of given) {
    if (value === undefined || model.options.includes(option)) continue;
    const why = OPTION_EXPLANATIONS[option];
    issues.push({ path: option, message: `not accepted by ${model.id}${why ? `: ${why}` : ""}` });
  }
  if (request.kind === "generate" && request.images.length > 0) {
    issues.push({ path: "images", message: "text-to-image takes no images; use the compose kind" });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const kind = submitKindOf(request.kind);
  const sources: ImageSource[] = request.images.map((image) =>
    image.source === "url" ? { url: image.url } : { bytes: image.bytes, name: image.name },
  );
  const body: Record<string, unknown> = {
    ...request.extra,
    prompt: request.prompt,
    model: model.id,
  };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set("ratio", request.ratio);
  set("resolution", request.resolution);
  if (kind === "video") {
    set("duration", request.duration);
    if (sources.length > 0) body.images = sources;
  } else {
    set("negative_prompt", request.negative);
    set("sample_strength", request.strength);
    set("count", request.count);
    if (kind === "compose") body.images = sources;
  }
  const parsed = parseRouteBody(schemaFor(kind, "async"), body) as ParsedBody;
  const images = imageSourcesOf(parsed).map((source, index) => toUploadImage(source, `images.${index}`));
  return buildNativeRequest(kind, parsed, images);
}
