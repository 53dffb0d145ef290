/**
 * The Visual API model registry (spec visual-api.md B.4, B.6): one zod schema per req_key for the native
 * request body, one capability record per model, friendly aliases, and the pure mapping from a generic
 * `ProviderRequest` to a native body. Types are inferred from the schemas.
 */
import { z } from "zod";
import { ValidationError, type ValidationIssue } from "../../errors.js";
import { issuesFromZod } from "../../validation.js";
import {
  GENERIC_OPTIONS,
  type GenericOption,
  type ImageLimits,
  type ModelCapability,
  type ProviderRequest,
  type ResolvedImage,
  type TaskKind,
} from "../types.js";

// ------------------------------------------------------------------------------------ field schemas

export const MAX_PROMPT_LENGTH = 800;
const MB = 1024 * 1024;

const prompt = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(MAX_PROMPT_LENGTH, `must be at most ${MAX_PROMPT_LENGTH} characters`);
const seed = z.number().int().min(-1).max(4294967295).default(-1);
const httpUrl = z.string().regex(/^https?:\/\/\S+$/i, "must be an http(s) URL");
const base64 = z
  .string()
  .min(1, "must not be empty")
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be plain base64 of the file bytes (no data: prefix)");
const int = z.number().int();

export const VIDEO_ASPECT_RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"] as const;
export const RECAMERA_TEMPLATES = [
  "hitchcock_dolly_in",
  "hitchcock_dolly_out",
  "robo_arm",
  "dynamic_orbit",
  "central_orbit",
  "crane_push",
  "quick_pull_back",
  "counterclockwise_swivel",
  "clockwise_swivel",
  "handheld",
  "rapid_push_pull",
] as const;
export const CAMERA_STRENGTHS = ["weak", "medium", "strong"] as const;
/** 24·n+1 frames: 121 = 5 s, 241 = 10 s. */
export const VIDEO_FRAMES = [121, 241] as const;

/** Visible watermark (spec B.3 LogoInfo), snake_case as on the wire. */
export const logoInfoSchema = z.strictObject({
  add_logo: z.boolean().optional(),
  position: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
  language: z.union([z.literal(0), z.literal(1)]).optional(),
  opacity: z.number().min(0).max(1).optional(),
  logo_text_content: z.string().optional(),
});
/** Invisible AIGC label (spec B.3 AIGCMeta). */
export const aigcMetaSchema = z.strictObject({
  producer_id: z.string().min(1).max(256),
  content_producer: z.string().max(256).optional(),
  content_propagator: z.string().max(256).optional(),
  propagate_id: z.string().max(256).optional(),
});

type Dims = { width?: number | undefined; height?: number | undefined };

/** width and height together, area and aspect ratio within bounds. */
function checkDimensions(
  value: Dims,
  ctx: z.RefinementCtx,
  limits: { minArea?: number; maxArea?: number; minRatio?: number; maxRatio?: number },
): void {
  const { width, height } = value;
  if ((width === undefined) !== (height === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: [width === undefined ? "width" : "height"],
      message: "width and height must be given together",
    });
    return;
  }
  if (width === undefined || height === undefined) return;
  const area = width * height;
  if (limits.minArea !== undefined && area < limits.minArea)
    ctx.addIssue({
      code: "custom",
      path: ["width"],
      message: `width×height must be at least ${limits.minArea} pixels (got ${width}×${height})`,
    });
  if (limits.maxArea !== undefined && area > limits.maxArea)
    ctx.addIssue({
      code: "custom",
      path: ["width"],
      message: `width×height must be at most ${limits.maxArea} pixels (got ${width}×${height})`,
    });
  const ratio = width / height;
  if (limits.minRatio !== undefined && ratio < limits.minRatio - 1e-9)
    ctx.addIssue({ code: "custom", path: ["width"], message: "width/height is below the allowed ratio" });
  if (limits.maxRatio !== undefined && ratio > limits.maxRatio + 1e-9)
    ctx.addIssue({ code: "custom", path: ["width"], message: "width/height is above the allowed ratio" });
}

/** Exactly one of image_urls / binary_data_base64, with `min..max` images. */
function checkImages(
  value: { image_urls?: string[] | undefined; binary_data_base64?: string[] | undefined },
  ctx: z.RefinementCtx,
  min: number,
  max: number,
): void {
  const urls = value.image_urls?.length ?? 0;
  const inline = value.binary_data_base64?.length ?? 0;
  if (urls > 0 && inline > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["image_urls"],
      message: "give image_urls or binary_data_base64, not both",
    });
    return;
  }
  const count = urls + inline;
  if (count < min || count > max)
    ctx.addIssue({
      code: "custom",
      path: [inline > 0 ? "binary_data_base64" : "image_urls"],
      message:
        min === max
          ? `needs exactly ${min} image${min === 1 ? "" : "s"} (got ${count})`
          : `takes ${min} to ${max} images (got ${count})`,
    });
}

// ------------------------------------------------------------------------------------ native schemas

const FOUR_K_AREA = 4096 * 4096;
const ONE_K_AREA = 1024 * 1024;
const ratioBound = z.number().min(1 / 16);

const callbackFields = {
  callback_url: httpUrl.optional(),
  /** Callback mode only: JSON strings, as the docs specify. */
  return_url: z.boolean().optional(),
  logo_info: z.string().optional(),
  aigc_meta: z.string().optional(),
};

function fourX(options: { maxImages: number; scale: z.ZodDefault<z.ZodNumber> }) {
  return z
    .strictObject({
      prompt,
      image_urls: z.array(httpUrl).max(options.maxImages, `at most ${options.maxImages} images`).optional(),
      size: int.min(ONE_K_AREA).max(FOUR_K_AREA).optional(),
      width: int.positive().optional(),
      height: int.positive().optional(),
      scale: options.scale,
      force_single: z.boolean().default(false),
      min_ratio: ratioBound.max(16).optional(),
      max_ratio: ratioBound.max(16).optional(),
      ...callbackFields,
    })
    .superRefine((value, ctx) =>
      checkDimensions(value, ctx, {
        minArea: ONE_K_AREA,
        maxArea: FOUR_K_AREA,
        minRatio: value.min_ratio ?? 1 / 3,
        maxRatio: value.max_ratio ?? 3,
      }),
    );
}

export const t2iV40Schema = fourX({ maxImages: 10, scale: z.number().min(0).max(1).default(0.5) });
export const seedream46Schema = fourX({ maxImages: 14, scale: int.min(1).max(100).default(50) });

function threeX() {
  return z
    .strictObject({
      prompt,
      use_pre_llm: z.boolean().default(true),
      seed,
      width: int.positive().optional(),
      height: int.positive().optional(),
    })
    .superRefine((value, ctx) =>
      checkDimensions(value, ctx, { minArea: 512 * 512, maxArea: 2048 * 2048, minRatio: 1 / 3, maxRatio: 3 }),
    );
}

export const t2iV31Schema = threeX();
export const t2iV30Schema = threeX();

/** Text-to-image 2.1: CVProcess only; return_url / logo_info / aigc_meta are body fields here. */
export const t2iV21Schema = z.strictObject({
  prompt,
  seed,
  width: int.min(256).max(768).default(512),
  height: int.min(256).max(768).default(512),
  use_pre_llm: z.boolean().default(true),
  use_sr: z.boolean().default(true),
  return_url: z.boolean().optional(),
  logo_info: logoInfoSchema.optional(),
  aigc_meta: aigcMetaSchema.optional(),
});

export const i2iV30Schema = z
  .strictObject({
    prompt,
    image_urls: z.array(httpUrl).optional(),
    binary_data_base64: z.array(base64).optional(),
    seed,
    scale: z.number().min(0).max(1).default(0.5),
    width: int.min(512).max(2016).optional(),
    height: int.min(512).max(2016).optional(),
  })
  .superRefine((value, ctx) => {
    checkImages(value, ctx, 1, 1);
    checkDimensions(value, ctx, {});
  });

const frames = z
  .union([z.literal(121), z.literal(241)], { message: "must be 121 (5 s) or 241 (10 s)" })
  .default(121);
const aspectRatio = z.enum(VIDEO_ASPECT_RATIOS);

function textToVideo() {
  return z.strictObject({ prompt, seed, frames, aspect_ratio: aspectRatio.default("16:9") });
}

function imageToVideo(images: number) {
  return z
    .strictObject({
      prompt,
      seed,
      frames,
      image_urls: z.array(httpUrl).optional(),
      binary_data_base64: z.array(base64).optional(),
    })
    .superRefine((value, ctx) => checkImages(value, ctx, images, images));
}

export const t2vV30Schema = textToVideo();
export const t2vV30_1080pSchema = textToVideo();
export const i2vFirstV30Schema = imageToVideo(1);
export const i2vFirstV30_1080Schema = imageToVideo(1);
export const i2vFirstTailV30Schema = imageToVideo(2);
export const i2vFirstTailV30_1080Schema = imageToVideo(2);
export const i2vRecameraV30Schema = z
  .strictObject({
    prompt,
    seed,
    frames,
    image_urls: z.array(httpUrl).optional(),
    binary_data_base64: z.array(base64).optional(),
    template_id: z.enum(RECAMERA_TEMPLATES),
    camera_strength: z.enum(CAMERA_STRENGTHS),
  })
  .superRefine((value, ctx) => checkImages(value, ctx, 1, 1));

export const ti2vV30ProSchema = z
  .strictObject({
    prompt: prompt.optional(),
    seed,
    frames,
    aspect_ratio: aspectRatio.optional(),
    image_urls: z.array(httpUrl).optional(),
    binary_data_base64: z.array(base64).optional(),
  })
  .superRefine((value, ctx) => {
    checkImages(value, ctx, 0, 1);
    const images = (value.image_urls?.length ?? 0) + (value.binary_data_base64?.length ?? 0);
    if (value.prompt === undefined && images === 0)
      ctx.addIssue({
        code: "custom",
        path: ["prompt"],
        message: "give a prompt, a first-frame image, or both",
      });
  });

/** Every req_key's native body schema (without `req_key`, which the client adds). */
export const VISUAL_SCHEMAS = {
  jimeng_t2i_v40: t2iV40Schema,
  jimeng_seedream46_cvtob: seedream46Schema,
  jimeng_t2i_v31: t2iV31Schema,
  jimeng_t2i_v30: t2iV30Schema,
  jimeng_high_aes_general_v21_L: t2iV21Schema,
  jimeng_i2i_v30: i2iV30Schema,
  jimeng_t2v_v30: t2vV30Schema,
  jimeng_t2v_v30_1080p: t2vV30_1080pSchema,
  jimeng_i2v_first_v30: i2vFirstV30Schema,
  jimeng_i2v_first_v30_1080: i2vFirstV30_1080Schema,
  jimeng_i2v_first_tail_v30: i2vFirstTailV30Schema,
  jimeng_i2v_first_tail_v30_1080: i2vFirstTailV30_1080Schema,
  jimeng_i2v_recamera_v30: i2vRecameraV30Schema,
  jimeng_ti2v_v30_pro: ti2vV30ProSchema,
} as const;

export type VisualModelId = keyof typeof VISUAL_SCHEMAS;
/** What a caller writes for a req_key (defaults optional). */
export type VisualBodyInput<K extends VisualModelId> = z.input<(typeof VISUAL_SCHEMAS)[K]>;
/** What is sent for a req_key (defaults filled in). */
export type VisualBody<K extends VisualModelId> = z.output<(typeof VISUAL_SCHEMAS)[K]>;

export type T2iV40Body = z.input<typeof t2iV40Schema>;
export type Seedream46Body = z.input<typeof seedream46Schema>;
export type T2iV3Body = z.input<typeof t2iV31Schema>;
export type T2iV21Body = z.input<typeof t2iV21Schema>;
export type I2iV30Body = z.input<typeof i2iV30Schema>;
export type TextToVideoBody = z.input<typeof t2vV30Schema>;
export type ImageToVideoBody = z.input<typeof i2vFirstV30Schema>;
export type RecameraBody = z.input<typeof i2vRecameraV30Schema>;
export type Ti2vProBody = z.input<typeof ti2vV30ProSchema>;

export function isVisualModelId(value: string): value is VisualModelId {
  return Object.hasOwn(VISUAL_SCHEMAS, value);
}

/** Validates a native body for `reqKey` (defaults applied), or throws a ValidationError naming each field. */
export function parseNativeBody<K extends VisualModelId>(reqKey: K, body: unknown): VisualBody<K> {
  const result = VISUAL_SCHEMAS[reqKey].safeParse(body);
  if (result.success) return result.data as VisualBody<K>;
  const issues = issuesFromZod(result.error);
  throw new ValidationError(issues, {
    message: `${reqKey}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
  });
}

// ------------------------------------------------------------------------------------ capabilities

const IMAGE_RATIOS = ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9"] as const;
type SizeTable = Record<string, Record<string, readonly [number, number]>>;

/** Landscape sizes per ratio → a table with the portrait ratios swapped in. */
function table(
  landscape: Record<string, readonly [number, number]>,
): Record<string, readonly [number, number]> {
  const out: Record<string, readonly [number, number]> = {};
  for (const [ratio, [w, h]] of Object.entries(landscape)) {
    out[ratio] = [w, h];
    const [a, b] = ratio.split(":");
    if (a !== b) out[`${b}:${a}`] = [h, w];
  }
  return out;
}

const FOUR_X_2K = table({
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:2": [2496, 1664],
  "16:9": [2560, 1440],
  "21:9": [3024, 1296],
});
const SIZES_40: SizeTable = {
  "2k": FOUR_X_2K,
  "4k": table({
    "1:1": [4096, 4096],
    "4:3": [4694, 3520],
    "3:2": [4992, 3328],
    "16:9": [5404, 3040],
    "21:9": [6198, 2656],
  }),
};
const SIZES_46: SizeTable = {
  "2k": FOUR_X_2K,
  "4k": table({
    "1:1": [4096, 4096],
    "4:3": [4693, 3520],
    "3:2": [4992, 3328],
    "16:9": [5404, 3040],
    "21:9": [6197, 2656],
  }),
};
const THREE_X_1K = table({
  "1:1": [1328, 1328],
  "4:3": [1472, 1104],
  "3:2": [1584, 1056],
  "16:9": [1664, 936],
  "21:9": [2016, 864],
});
const SIZES_3X: SizeTable = { "1k": THREE_X_1K, "2k": FOUR_X_2K };
const SIZES_I2I: SizeTable = { "1k": THREE_X_1K };
const SIZES_21: SizeTable = {
  "1k": table({ "1:1": [512, 512], "4:3": [512, 384], "3:2": [512, 341], "16:9": [512, 288] }),
};

/** How a model's body is built; internal to the registry. */
interface ModelSpec {
  capability: ModelCapability;
  action: "async" | "process";
  /** Output size: `area` (4.x: size or width/height), `wh` (width/height), `aspect` (video aspect_ratio), none. */
  sizing: "area" | "wh" | "aspect" | "none";
  sizes?: SizeTable;
  defaultResolution?: string;
  /** Range `strength` maps onto, when the model has a `scale`. */
  scale?: { min: number; max: number; integer: boolean };
  /** Video: `duration` maps onto `frames`. */
  frames?: boolean;
}

const IMAGE_FORMATS = ["jpeg", "png"] as const;
const FOUR_X_IMAGES = (max: number): ImageLimits => ({
  min: 0,
  max,
  formats: IMAGE_FORMATS,
  maxBytes: 15 * MB,
  maxSide: 4096,
  maxAspectRatio: 3,
  transport: "url",
});
const VIDEO_IMAGES = (count: number, roles: readonly string[], min = count): ImageLimits => ({
  min,
  max: count,
  formats: IMAGE_FORMATS,
  maxBytes: Math.floor(4.7 * MB),
  maxSide: 4096,
  minShortSide: 320,
  maxAspectRatio: 3,
  ...(count > 1 ? { sameAspectRatio: true } : {}),
  transport: "url-or-base64",
  roles,
});

function capability(
  fields: Omit<ModelCapability, "provider" | "maxPromptLength"> & { maxPromptLength?: number },
): ModelCapability {
  return { provider: "visual", maxPromptLength: MAX_PROMPT_LENGTH, ...fields };
}

const VIDEO_EXPECTED = { min: 30, typical: 90 };
const VIDEO_1080_EXPECTED = { min: 45, typical: 150 };
const DURATIONS = [5, 10] as const;

const SPECS: Record<VisualModelId, ModelSpec> = {
  jimeng_t2i_v40: {
    capability: capability({
      id: "jimeng_t2i_v40",
      aliases: ["jimeng-4.0", "4.0", "seedream-4.0"],
      title: "Jimeng 4.0: text-to-image, editing and multi-image composition",
      kinds: ["generate", "compose"],
      output: "image",
      options: ["ratio", "resolution", "size", "count", "strength"],
      ratios: IMAGE_RATIOS,
      resolutions: ["2k", "4k"],
      images: FOUR_X_IMAGES(10),
      countMode: "single-or-set",
      expectedSeconds: { min: 8, typical: 25 },
      defaultFor: ["generate", "compose"],
      notes: "Reference images by URL only. count 1 forces a single image; more lets the model make a set.",
    }),
    action: "async",
    sizing: "area",
    sizes: SIZES_40,
    defaultResolution: "2k",
    scale: { min: 0, max: 1, integer: false },
  },
  jimeng_seedream46_cvtob: {
    capability: capability({
      id: "jimeng_seedream46_cvtob",
      aliases: ["jimeng-4.6", "4.6", "seedream-4.6"],
      title: "Jimeng 4.6: portraits, graphic design and stylisation, up to 14 references",
      kinds: ["generate", "compose"],
      output: "image",
      options: ["ratio", "resolution", "size", "count", "strength"],
      ratios: IMAGE_RATIOS,
      resolutions: ["2k", "4k"],
      images: FOUR_X_IMAGES(14),
      countMode: "single-or-set",
      expectedSeconds: { min: 8, typical: 25 },
      notes: "Reference images by URL only. scale is an integer 1–100.",
    }),
    action: "async",
    sizing: "area",
    sizes: SIZES_46,
    defaultResolution: "2k",
    scale: { min: 1, max: 100, integer: true },
  },
  jimeng_t2i_v31: {
    capability: capability({
      id: "jimeng_t2i_v31",
      aliases: ["jimeng-3.1", "3.1"],
      title: "Jimeng 3.1 text-to-image",
      kinds: ["generate"],
      output: "image",
      options: ["ratio", "resolution", "size", "seed"],
      ratios: IMAGE_RATIOS,
      resolutions: ["1k", "2k"],
      images: null,
      expectedSeconds: { min: 5, typical: 15 },
    }),
    action: "async",
    sizing: "wh",
    sizes: SIZES_3X,
    defaultResolution: "1k",
  },
  jimeng_t2i_v30: {
    capability: capability({
      id: "jimeng_t2i_v30",
      aliases: ["jimeng-3.0", "3.0"],
      title: "Jimeng 3.0 text-to-image",
      kinds: ["generate"],
      output: "image",
      options: ["ratio", "resolution", "size", "seed"],
      ratios: IMAGE_RATIOS,
      resolutions: ["1k", "2k"],
      images: null,
      expectedSeconds: { min: 5, typical: 15 },
    }),
    action: "async",
    sizing: "wh",
    sizes: SIZES_3X,
    defaultResolution: "1k",
  },
  jimeng_high_aes_general_v21_L: {
    capability: capability({
      id: "jimeng_high_aes_general_v21_L",
      aliases: ["jimeng-2.1", "2.1"],
      title: "Jimeng 2.1 text-to-image (synchronous CVProcess)",
      kinds: ["generate"],
      output: "image",
      options: ["ratio", "size", "seed", "watermark"],
      ratios: ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16"],
      images: null,
      expectedSeconds: { min: 3, typical: 8 },
      notes:
        "Synchronous: answers in one call; its task id is local to the process. Sizes 256–768, doubled by use_sr.",
    }),
    action: "process",
    sizing: "wh",
    sizes: SIZES_21,
    defaultResolution: "1k",
  },
  jimeng_i2i_v30: {
    capability: capability({
      id: "jimeng_i2i_v30",
      aliases: ["jimeng-i2i-3.0", "i2i-3.0"],
      title: "Jimeng 3.0 image-to-image (instruction editing)",
      kinds: ["compose"],
      output: "image",
      options: ["ratio", "size", "seed", "strength"],
      ratios: IMAGE_RATIOS,
      images: {
        min: 1,
        max: 1,
        formats: IMAGE_FORMATS,
        maxBytes: Math.floor(4.7 * MB),
        maxSide: 4096,
        maxAspectRatio: 3,
        transport: "url-or-base64",
      },
      expectedSeconds: { min: 5, typical: 15 },
      notes: "Takes local files (sent inline as base64) as well as URLs.",
    }),
    action: "async",
    sizing: "wh",
    sizes: SIZES_I2I,
    defaultResolution: "1k",
    scale: { min: 0, max: 1, integer: false },
  },
  jimeng_t2v_v30: {
    capability: capability({
      id: "jimeng_t2v_v30",
      aliases: ["jimeng-video-3.0", "video-3.0"],
      title: "Jimeng Video 3.0 720p text-to-video",
      kinds: ["video"],
      output: "video",
      options: ["ratio", "duration", "seed"],
      ratios: VIDEO_ASPECT_RATIOS,
      durations: DURATIONS,
      images: null,
      expectedSeconds: VIDEO_EXPECTED,
    }),
    action: "async",
    sizing: "aspect",
    frames: true,
  },
  jimeng_t2v_v30_1080p: {
    capability: capability({
      id: "jimeng_t2v_v30_1080p",
      aliases: ["jimeng-video-3.0-1080p", "video-3.0-1080p"],
      title: "Jimeng Video 3.0 1080p text-to-video",
      kinds: ["video"],
      output: "video",
      options: ["ratio", "duration", "seed"],
      ratios: VIDEO_ASPECT_RATIOS,
      durations: DURATIONS,
      images: null,
      expectedSeconds: VIDEO_1080_EXPECTED,
    }),
    action: "async",
    sizing: "aspect",
    frames: true,
  },
  jimeng_i2v_first_v30: {
    capability: capability({
      id: "jimeng_i2v_first_v30",
      aliases: ["jimeng-i2v-3.0", "jimeng-video-3.0-i2v"],
      title: "Jimeng Video 3.0 720p first-frame image-to-video",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"]),
      expectedSeconds: VIDEO_EXPECTED,
      notes: "The video's aspect ratio follows the image.",
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_i2v_first_v30_1080: {
    capability: capability({
      id: "jimeng_i2v_first_v30_1080",
      aliases: ["jimeng-i2v-3.0-1080p", "jimeng-video-3.0-i2v-1080p"],
      title: "Jimeng Video 3.0 1080p first-frame image-to-video",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"]),
      expectedSeconds: VIDEO_1080_EXPECTED,
      notes: "The video's aspect ratio follows the image.",
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_i2v_first_tail_v30: {
    capability: capability({
      id: "jimeng_i2v_first_tail_v30",
      aliases: ["jimeng-first-tail-3.0", "jimeng-video-3.0-first-tail"],
      title: "Jimeng Video 3.0 720p first + last frame to video",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(2, ["first frame", "last frame"]),
      expectedSeconds: VIDEO_EXPECTED,
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_i2v_first_tail_v30_1080: {
    capability: capability({
      id: "jimeng_i2v_first_tail_v30_1080",
      aliases: ["jimeng-first-tail-3.0-1080p", "jimeng-video-3.0-first-tail-1080p"],
      title: "Jimeng Video 3.0 1080p first + last frame to video",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(2, ["first frame", "last frame"]),
      expectedSeconds: VIDEO_1080_EXPECTED,
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_i2v_recamera_v30: {
    capability: capability({
      id: "jimeng_i2v_recamera_v30",
      aliases: ["jimeng-recamera-3.0", "jimeng-video-3.0-recamera"],
      title: "Jimeng Video 3.0 720p image-to-video with camera moves",
      kinds: ["video"],
      output: "video",
      options: ["duration", "seed"],
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"]),
      expectedSeconds: VIDEO_EXPECTED,
      notes: `Needs extra.template_id (${RECAMERA_TEMPLATES.join(", ")}) and extra.camera_strength (weak, medium, strong).`,
    }),
    action: "async",
    sizing: "none",
    frames: true,
  },
  jimeng_ti2v_v30_pro: {
    capability: capability({
      id: "jimeng_ti2v_v30_pro",
      aliases: ["jimeng-video-3.0-pro", "video-3.0-pro"],
      title: "Jimeng Video 3.0 Pro 1080p, text or first frame to video",
      kinds: ["video"],
      output: "video",
      options: ["ratio", "duration", "seed"],
      ratios: VIDEO_ASPECT_RATIOS,
      durations: DURATIONS,
      images: VIDEO_IMAGES(1, ["first frame"], 0),
      expectedSeconds: VIDEO_1080_EXPECTED,
      defaultFor: ["video"],
      notes:
        "With a first frame the nearest ratio is chosen and the image centre-cropped; ratio applies to text only.",
    }),
    action: "async",
    sizing: "aspect",
    frames: true,
  },
};

/** Every Visual model's capability record, in registry order. */
export const VISUAL_MODELS: readonly ModelCapability[] = Object.values(SPECS).map((spec) => spec.capability);

/** CVProcess-only models answer synchronously. */
export function isProcessOnly(id: string): boolean {
  return isVisualModelId(id) && SPECS[id].action === "process";
}

export function visualModel(id: string): ModelCapability | undefined {
  return isVisualModelId(id) ? SPECS[id].capability : undefined;
}

/** A model by req_key or alias (case-insensitive), or the default for `kind`. */
export function resolveVisualModel(name: string | undefined, kind: TaskKind): ModelCapability {
  if (name === undefined || name === "") {
    const found = VISUAL_MODELS.find((model) => model.defaultFor?.includes(kind));
    if (found) return found;
    throw new ValidationError([{ path: "model", message: `no default Visual model for ${kind}` }]);
  }
  const wanted = name.trim().toLowerCase();
  const found = VISUAL_MODELS.find(
    (model) =>
      model.id.toLowerCase() === wanted || model.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
  if (found) return found;
  const candidates = VISUAL_MODELS.filter((model) => model.kinds.includes(kind))
    .map((model) => model.aliases[0] ?? model.id)
    .join(", ");
  throw new ValidationError([{ path: "model", message: `unknown Visual model "${name}"` }], {
    message: `model: unknown Visual model "${name}"; for ${kind} use one of: ${candidates}`,
  });
}

// ------------------------------------------------------------------------------------ request → body

export interface NativeRequest {
  reqKey: VisualModelId;
  action: "async" | "process";
  /** Validated native body, defaults applied, without `req_key`. */
  body: Record<string, unknown>;
}

function fail(model: string, issues: ValidationIssue[], hint?: string): never {
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(issues, { message: `${model}: ${text}`, ...(hint ? { hint } : {}) });
}

function modelsTakingLocalFiles(kind: TaskKind): string {
  return Object.values(SPECS)
    .filter(
      (spec) => spec.capability.images?.transport === "url-or-base64" && spec.capability.kinds.includes(kind),
    )
    .map((spec) => spec.capability.id)
    .join(", ");
}

function checkImageLimits(
  model: ModelCapability,
  images: ResolvedImage[],
  kind: TaskKind,
): ValidationIssue[] {
  const limits = model.images;
  if (!limits) {
    return images.length > 0 ? [{ path: "images", message: `${model.id} takes no input images` }] : [];
  }
  const issues: ValidationIssue[] = [];
  if (images.length < limits.min || images.length > limits.max) {
    const range = limits.min === limits.max ? `exactly ${limits.min}` : `${limits.min} to ${limits.max}`;
    issues.push({ path: "images", message: `${model.id} takes ${range} images (got ${images.length})` });
  }
  const local = images.filter((image) => image.source === "bytes");
  if (local.length > 0 && limits.transport === "url") {
    issues.push({
      path: "images",
      message: `${model.id} takes image URLs only; pass an http(s) URL, or use a model that accepts local files (${modelsTakingLocalFiles(kind)})`,
    });
  }
  if (local.length > 0 && local.length < images.length) {
    issues.push({
      path: "images",
      message: "mix of URLs and local files: the Visual API takes either all URLs or all inline images",
    });
  }
  let firstRatio: number | undefined;
  images.forEach((image, index) => {
    if (image.source !== "bytes") return;
    const path = `images.${index}`;
    if (!limits.formats.includes(image.format))
      issues.push({
        path,
        message: `${image.name}: ${image.format} is not accepted (use ${limits.formats.join(" or ")})`,
      });
    if (image.bytes.byteLength > limits.maxBytes)
      issues.push({
        path,
        message: `${image.name}: ${(image.bytes.byteLength / MB).toFixed(1)} MB is over the ${(limits.maxBytes / MB).toFixed(1)} MB limit`,
      });
    const long = Math.max(image.width, image.height);
    const short = Math.min(image.width, image.height);
    if (limits.maxSide !== undefined && long > limits.maxSide)
      issues.push({ path, message: `${image.name}: sides must be at most ${limits.maxSide} px` });
    if (limits.minShortSide !== undefined && short < limits.minShortSide)
      issues.push({
        path,
        message: `${image.name}: the short side must be at least ${limits.minShortSide} px`,
      });
    if (limits.maxAspectRatio !== undefined && short > 0 && long / short > limits.maxAspectRatio)
      issues.push({
        path,
        message: `${image.name}: long/short side ratio must be at most ${limits.maxAspectRatio}`,
      });
    const ratio = image.width / image.height;
    if (limits.sameAspectRatio && firstRatio !== undefined && Math.abs(ratio - firstRatio) > 0.01)
      issues.push({ path, message: `${image.name}: all frames must share one aspect ratio` });
    firstRatio ??= ratio;
  });
  return issues;
}

function mapScale(strength: number, range: { min: number; max: number; integer: boolean }): number {
  const value = range.min + strength * (range.max - range.min);
  return range.integer ? Math.round(value) : Math.round(value * 100) / 100;
}

/**
 * Turns a generic request (model chosen, images resolved) into the native body for its model: ratio /
 * resolution / size → width/height, size or aspect_ratio; duration → frames; count 1 → force_single;
 * strength → scale; seed; images → image_urls or binary_data_base64; then `extra` merged and the whole body
 * validated by the native schema. Throws ValidationError (naming the option or field) before any request.
 */
export function toNativeRequest(request: ProviderRequest): NativeRequest {
  const model = request.model;
  if (model.provider !== "visual" || !isVisualModelId(model.id))
    fail(model.id, [{ path: "model", message: "is not a Visual API model" }]);
  const reqKey = model.id as VisualModelId;
  const spec = SPECS[reqKey];
  const kind = request.kind ?? "generate";
  const issues: ValidationIssue[] = [];

  if (!model.kinds.includes(kind))
    issues.push({
      path: "kind",
      message: `${model.id} does not do ${kind} (it does ${model.kinds.join(", ")})`,
    });

  const given: Record<GenericOption, unknown> = {
    ratio: request.ratio,
    resolution: request.resolution,
    size: request.size,
    count: request.count === 1 ? undefined : request.count,
    seed: request.seed,
    negative: request.negative,
    strength: request.strength,
    duration: request.duration,
    watermark: request.watermark,
  };
  for (const option of GENERIC_OPTIONS) {
    if (given[option] !== undefined && !model.options.includes(option))
      issues.push({ path: option, message: `not accepted by ${model.id}` });
  }
  issues.push(...checkImageLimits(model, request.images, kind));
  if (issues.length > 0) fail(model.id, issues);

  const body: Record<string, unknown> = { prompt: request.prompt };

  // Output size.
  if (request.size !== undefined && (request.ratio !== undefined || request.resolution !== undefined))
    fail(model.id, [{ path: "size", message: "give size, or ratio/resolution, not both" }]);
  if (request.size !== undefined) {
    const [w, h] = request.size.split("x").map(Number);
    body.width = w;
    body.height = h;
  } else if (spec.sizing === "aspect" && request.ratio !== undefined) {
    if (!model.ratios?.includes(request.ratio))
      fail(model.id, [{ path: "ratio", message: `must be one of ${model.ratios?.join(", ")}` }]);
    if (request.images.length > 0)
      fail(model.id, [
        { path: "ratio", message: "applies to text-to-video only; with an image the ratio follows it" },
      ]);
    body.aspect_ratio = request.ratio;
  } else if ((spec.sizing === "area" || spec.sizing === "wh") && spec.sizes) {
    const resolution = request.resolution?.toLowerCase();
    if (resolution !== undefined && !spec.sizes[resolution])
      fail(model.id, [
        { path: "resolution", message: `must be one of ${Object.keys(spec.sizes).join(", ")}` },
      ]);
    if (request.ratio !== undefined) {
      const size = spec.sizes[resolution ?? (spec.defaultResolution as string)]?.[request.ratio];
      if (!size) fail(model.id, [{ path: "ratio", message: `must be one of ${model.ratios?.join(", ")}` }]);
      body.width = size[0];
      body.height = size[1];
    } else if (resolution !== undefined) {
      const square = spec.sizes[resolution]?.["1:1"] as readonly [number, number];
      // 4.x: an area lets the model pick the ratio from the prompt; others get the square size.
      if (spec.sizing === "area") body.size = square[0] * square[1];
      else {
        body.width = square[0];
        body.height = square[1];
      }
    }
  }

  if (request.seed !== undefined) body.seed = request.seed;
  if (request.strength !== undefined && spec.scale) body.scale = mapScale(request.strength, spec.scale);
  if (model.options.includes("count") && request.count !== undefined) {
    const room = 15 - request.images.length;
    if (request.count > room)
      fail(model.id, [
        { path: "count", message: `at most ${room} outputs with ${request.images.length} input images` },
      ]);
    body.force_single = request.count === 1;
  }
  if (spec.frames && request.duration !== undefined) {
    if (request.duration !== 5 && request.duration !== 10)
      fail(model.id, [{ path: "duration", message: "must be 5 or 10 seconds" }]);
    body.frames = request.duration === 5 ? 121 : 241;
  }
  if (request.watermark !== undefined) body.logo_info = { add_logo: request.watermark };

  if (request.images.length > 0) {
    const local = request.images[0]?.source === "bytes";
    if (local)
      body.binary_data_base64 = request.images.map((image) =>
        image.source === "bytes" ? Buffer.from(image.bytes).toString("base64") : "",
      );
    else body.image_urls = request.images.map((image) => (image.source === "url" ? image.url : ""));
  }

  Object.assign(body, request.extra ?? {});
  return { reqKey, action: spec.action, body: parseNativeBody(reqKey, body) as Record<string, unknown> };
}
