/**
 * The jimeng-api routes' request bodies: one zod schema per route (images, compositions, videos; sync and
 * async), the image sources they take, and `parseRouteBody`. The rules of the wire format only; the
 * provider-neutral model rules live in src/providers/rules.ts.
 */
import { z } from "zod";
import { ValidationError, type ValidationIssue } from "../../errors.js";
import { parseOrThrow } from "../../validation.js";
import {
  asyncDurations,
  DEFAULT_IMAGE_MODEL,
  DEFAULT_VIDEO_MODEL,
  IMAGE_MODEL_IDS,
  IMAGE_RATIOS,
  IMAGE_RESOLUTIONS,
  imageModelSpec,
  MAX_IMAGE_COUNT,
  MAX_PROMPT_LENGTH,
  syncDurations,
  VIDEO_MODEL_IDS,
  VIDEO_RATIOS,
  VIDEO_RESOLUTIONS,
  videoModelSpec,
} from "./catalog.js";

/** Which async/blocking route family a request goes to. */
export type SubmitKind = "image" | "compose" | "video";

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
