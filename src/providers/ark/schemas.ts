/**
 * Volcengine Ark's wire shapes as zod schemas: the single source of truth for what the client sends and what it
 * accepts back (spec ark-api.md; visual-api.md Part C). Requests are strict (Ark answers 400 to a field it
 * does not know, so an unknown key is our bug, caught before sending); responses are loose (Ark adds fields).
 */
import { z } from "zod";

/** A URL or a `data:image/<fmt>;base64,…` string (the format name must be lowercase). */
const imageRef = z
  .string()
  .min(1)
  .refine((value) => !value.startsWith("data:") || /^data:image\/[a-z]+;base64,/.test(value), {
    message: "a data URL must look like data:image/png;base64,… (lowercase format)",
  });

export const arkImageRequestSchema = z.strictObject({
  model: z.string().min(1),
  prompt: z.string().min(1),
  image: z.union([imageRef, z.array(imageRef).min(1).max(14)]).optional(),
  size: z.string().min(1).optional(),
  seed: z.number().int().min(-1).max(2147483647).optional(),
  guidance_scale: z.number().min(1).max(10).optional(),
  watermark: z.boolean().optional(),
  response_format: z.enum(["url", "b64_json"]).optional(),
  sequential_image_generation: z.enum(["auto", "disabled"]).optional(),
  sequential_image_generation_options: z
    .strictObject({ max_images: z.number().int().min(1).max(15) })
    .optional(),
  stream: z.boolean().optional(),
  optimize_prompt_options: z
    .strictObject({ mode: z.enum(["standard", "fast"]), thinking: z.string().optional() })
    .optional(),
  output_format: z.enum(["jpeg", "png"]).optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
});
export type ArkImageRequest = z.infer<typeof arkImageRequestSchema>;
/** The native fields of an image request other than `model` and `prompt`. */
export type ArkImageField = Exclude<keyof ArkImageRequest, "model" | "prompt">;

export const arkItemErrorSchema = z.looseObject({ code: z.string(), message: z.string().default("") });

export const arkImageItemSchema = z.looseObject({
  url: z.string().optional(),
  b64_json: z.string().optional(),
  size: z.string().optional(),
  error: arkItemErrorSchema.optional(),
});
export type ArkImageItem = z.infer<typeof arkImageItemSchema>;

export const arkUsageSchema = z.looseObject({
  generated_images: z.number().optional(),
  output_tokens: z.number().optional(),
  total_tokens: z.number().optional(),
});

export const arkImageResponseSchema = z.looseObject({
  model: z.string().optional(),
  /** The wire says `created`; the official SDK's type says `created_at`. Both are accepted. */
  created: z.number().optional(),
  created_at: z.number().optional(),
  data: z.array(arkImageItemSchema),
  usage: arkUsageSchema.optional(),
});
export type ArkImageResponse = z.infer<typeof arkImageResponseSchema>;

/** One SSE event of a streamed image request; `type` repeats the event name. */
export const arkImageEventSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("image_generation.partial_succeeded"),
    image_index: z.number().int().min(0),
    url: z.string().optional(),
    b64_json: z.string().optional(),
    size: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal("image_generation.partial_failed"),
    image_index: z.number().int().min(0),
    error: arkItemErrorSchema,
  }),
  z.looseObject({ type: z.literal("image_generation.completed"), usage: arkUsageSchema.optional() }),
]);
export type ArkImageEvent = z.infer<typeof arkImageEventSchema>;

export const VIDEO_ROLES = ["first_frame", "last_frame", "reference_image"] as const;
export type ArkVideoRole = (typeof VIDEO_ROLES)[number];

export const arkVideoContentSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text"), text: z.string().min(1) }),
  z.strictObject({
    type: z.literal("image_url"),
    image_url: z.strictObject({ url: imageRef }),
    role: z.enum(VIDEO_ROLES).optional(),
  }),
]);
export type ArkVideoContent = z.infer<typeof arkVideoContentSchema>;

export const arkVideoRequestSchema = z.strictObject({
  model: z.string().min(1),
  content: z.array(arkVideoContentSchema).min(1),
  ratio: z.string().min(1).optional(),
  duration: z.number().int().min(1).max(15).optional(),
  resolution: z.enum(["480p", "720p", "1080p"]).optional(),
  seed: z.number().int().min(-1).max(4294967295).optional(),
  camera_fixed: z.boolean().optional(),
  watermark: z.boolean().optional(),
  return_last_frame: z.boolean().optional(),
  callback_url: z.string().url().optional(),
  service_tier: z.enum(["default", "flex"]).optional(),
  execution_expires_after: z.number().int().positive().optional(),
});
export type ArkVideoRequest = z.infer<typeof arkVideoRequestSchema>;
export type ArkVideoField = Exclude<keyof ArkVideoRequest, "model" | "content">;

export const ARK_VIDEO_STATES = ["queued", "running", "succeeded", "failed", "cancelled", "expired"] as const;
export type ArkVideoState = (typeof ARK_VIDEO_STATES)[number];

export const arkVideoTaskSchema = z.looseObject({
  id: z.string().min(1),
  model: z.string().optional(),
  status: z.enum(ARK_VIDEO_STATES),
  content: z
    .looseObject({ video_url: z.string().optional(), last_frame_url: z.string().optional() })
    .optional(),
  error: arkItemErrorSchema.nullish(),
  usage: z.looseObject({ completion_tokens: z.number().optional() }).optional(),
  seed: z.number().optional(),
  resolution: z.string().optional(),
  ratio: z.string().optional(),
  duration: z.number().optional(),
  created_at: z.number().optional(),
  updated_at: z.number().optional(),
});
export type ArkVideoTask = z.infer<typeof arkVideoTaskSchema>;

export const arkCreatedTaskSchema = z.looseObject({ id: z.string().min(1) });

export const arkTaskListSchema = z.looseObject({
  total: z.number().int().min(0),
  items: z.array(arkVideoTaskSchema),
});
export type ArkTaskList = z.infer<typeof arkTaskListSchema>;

export const arkListQuerySchema = z.strictObject({
  pageNum: z.number().int().min(1).max(500).optional(),
  pageSize: z.number().int().min(1).max(500).optional(),
  status: z.enum(ARK_VIDEO_STATES).optional(),
  model: z.string().min(1).optional(),
  taskIds: z.array(z.string().min(1)).optional(),
});
export type ArkListQuery = z.infer<typeof arkListQuerySchema>;

export const arkErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string().default(""),
    param: z.string().nullish(),
    type: z.string().nullish(),
  }),
});
