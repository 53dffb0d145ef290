/**
 * The request bodies and queries of `jimeng serve`, as zod schemas: they validate every request and generate
 * `/openapi.json`. Field names are the seeds' (snake_case for seeds 000/002, seed 003's own for its routes).
 */
import { z } from "zod";

/** Seed 000's sizes, quality words and styles. */
export const SEED_SIZES = ["256x256", "512x512", "1024x1024", "1024x1792", "1792x1024"] as const;
export const SEED_QUALITIES = ["standard", "hd"] as const;
export const SEED_STYLES = ["natural", "anime", "cyberpunk", "realistic"] as const;
export const SEED_DEFAULT_MODEL = "doubao-seedream-3.0-t2i";

const MAX_PROMPT = 800;
const prompt = z
  .string()
  .trim()
  .min(1, "is required")
  .max(MAX_PROMPT, `must be at most ${MAX_PROMPT} characters`);
const userId = z
  .string()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters")
  .regex(/^[\w.@-]+$/, "may hold letters, digits and _ . @ - only");

/** An input image a client may send: an http(s) URL or a data URL (never a path on the server). */
export const imageReference = z
  .string()
  .max(20 * 1024 * 1024, "is larger than 15 MB")
  .regex(
    /^(https?:\/\/|data:image\/(png|jpeg|jpg|webp);base64,)/i,
    "must be an http(s) URL or an image data URL",
  );

const ratio = z.string().regex(/^\d+:\d+$/, "must look like 16:9");

/** Fields every generation route may add to the seed's own. */
const generationExtras = {
  ratio: ratio.optional(),
  resolution: z.string().min(1).max(16).optional(),
  seed: z.number().int().min(-1).max(4294967295).optional(),
  negative: z.string().max(MAX_PROMPT).optional(),
};

export const imageTaskBody = z.object({
  prompt,
  user_id: userId.optional(),
  model: z.string().min(1).max(64).optional(),
  size: z.enum(SEED_SIZES).optional(),
  quality: z.enum(SEED_QUALITIES).optional(),
  style: z.enum(SEED_STYLES).optional(),
  n: z.number().int().min(1).max(15).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  /** Reference images: the task composes (image-to-image, multi-image). */
  images: z.array(imageReference).min(1).max(10).optional(),
  strength: z.number().min(0).max(1).optional(),
  ...generationExtras,
});
export type ImageTaskBody = z.infer<typeof imageTaskBody>;

export const videoTaskBody = z.object({
  prompt,
  user_id: userId.optional(),
  model: z.string().min(1).max(64).optional(),
  /** First frame (and last frame) images. */
  images: z.array(imageReference).min(1).max(2).optional(),
  duration: z.number().positive().max(60).optional(),
  ratio: ratio.optional(),
  resolution: generationExtras.resolution,
  seed: generationExtras.seed,
});
export type VideoTaskBody = z.infer<typeof videoTaskBody>;

/** Seed 002's generic task: `type` picks the kind; the rest as the image or video route. */
export const genericTaskBody = z.object({
  type: z.enum(["image", "video"]).default("image"),
  prompt,
  user_id: userId.optional(),
  model: z.string().min(1).max(64).optional(),
  images: z.array(imageReference).min(1).max(10).optional(),
  n: z.number().int().min(1).max(15).optional(),
  size: z.enum(SEED_SIZES).optional(),
  duration: z.number().positive().max(60).optional(),
  strength: z.number().min(0).max(1).optional(),
  ...generationExtras,
});
export type GenericTaskBody = z.infer<typeof genericTaskBody>;

export const taskListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(256).optional(),
  status: z.enum(["pending", "processing", "completed", "failed", "cancelled"]).optional(),
});

export const userBody = z.object({
  email: z.email("must be an email address"),
  name: z.string().max(128).optional(),
  /** Chosen id (default: generated). */
  id: userId.optional(),
  credits: z.number().int().min(0).optional(),
});

export const userUpdateBody = z
  .object({
    email: z.email("must be an email address").optional(),
    name: z.string().max(128).optional(),
    credits: z.number().int().min(0).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "give at least one of email, name, credits" });

export const userQuery = z.object({ email: z.string().max(256).optional() });

/** Seed 003. */
export const imageToImageBody = z.object({
  prompt,
  input_image: imageReference,
  image_prompt_strength: z.number().min(0).max(1).default(0.5),
  aspect_ratio: ratio.optional(),
  seed: generationExtras.seed,
  output_format: z.enum(["png", "jpeg", "jpg", "webp"]).optional(),
  model: z.string().min(1).max(64).optional(),
});

export const MAX_BATCH_TASKS = 10;

export const batchGenerateBody = z
  .object({
    prompts: z
      .array(prompt)
      .min(1)
      .max(MAX_BATCH_TASKS, `at most ${MAX_BATCH_TASKS} tasks per batch`)
      .optional(),
    prompt: prompt.optional(),
    count: z
      .number()
      .int()
      .min(1)
      .max(MAX_BATCH_TASKS, `at most ${MAX_BATCH_TASKS} tasks per batch`)
      .optional(),
    aspect_ratio: ratio.optional(),
    seed: generationExtras.seed,
    output_format: z.enum(["png", "jpeg", "jpg", "webp"]).optional(),
    model: z.string().min(1).max(64).optional(),
  })
  .refine((body) => body.prompts !== undefined || body.prompt !== undefined, {
    message: "give prompts (a list) or prompt with count",
    path: ["prompts"],
  });

export const batchStatusQuery = z.object({ batch_id: z.string().min(1, "is required").max(256) });

export const batchProcessBody = z.object({
  batch_id: z.string().min(1).max(256),
  task_index: z
    .number()
    .int()
    .min(0)
    .max(MAX_BATCH_TASKS - 1),
});
