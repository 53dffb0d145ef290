/**
 * The Visual API's native request bodies: one zod schema per req_key (field rules, defaults, cross-field
 * checks), the types inferred from them, and `parseNativeBody`. Provider-neutral rules are not here
 * (src/providers/rules.ts); these are the rules of the wire format itself.
 */
import { z } from "zod";
import { ValidationError } from "../../errors.js";
import { issuesFromZod } from "../../validation.js";

// ------------------------------------------------------------------------------------ field schemas

export const MAX_PROMPT_LENGTH = 800;

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

/** Visible watermark (the Visual API's `logo_info`), snake_case as on the wire. */
export const logoInfoSchema = z.strictObject({
  add_logo: z.boolean().optional(),
  position: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
  language: z.union([z.literal(0), z.literal(1)]).optional(),
  opacity: z.number().min(0).max(1).optional(),
  logo_text_content: z.string().optional(),
});
/** Invisible AIGC label (the Visual API's `aigc_meta`). */
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

const imageToVideoFields = {
  prompt,
  seed,
  frames,
  image_urls: z.array(httpUrl).optional(),
  binary_data_base64: z.array(base64).optional(),
};

function imageToVideo(images: number) {
  return z
    .strictObject(imageToVideoFields)
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
    ...imageToVideoFields,
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
