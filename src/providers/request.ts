import { z } from "zod";

/** A reference image: a local path, an http(s) URL, a data URL, or the bytes themselves. */
export const imageInputSchema = z.union([z.string().min(1, "must not be empty"), z.instanceof(Uint8Array)]);
export type ImageInput = z.infer<typeof imageInputSchema>;

/**
 * The provider-neutral generation request: the CLI's flags, a batch job's fields and the SDK's `generate()`
 * input. Model-specific rules (which options, which ratios, how many images) are checked against the chosen
 * model's capability record and its native schema.
 */
export const generationRequestSchema = z.strictObject({
  kind: z.enum(["generate", "compose", "video"]).default("generate"),
  prompt: z.string().trim().min(1, "must not be empty"),
  model: z.string().min(1).optional(),
  images: z.array(imageInputSchema).optional(),
  /** Outputs to keep (session: the first N of the ~4 upstream makes; visual 4.x: forces a single image at 1). */
  count: z.number().int().min(1).max(15).optional(),
  ratio: z
    .string()
    .regex(/^\d+:\d+$/, "must look like 16:9")
    .optional(),
  resolution: z.string().min(1).optional(),
  /** Exact output size (visual provider). */
  size: z
    .string()
    .regex(/^\d+x\d+$/, "must look like 2048x2048")
    .optional(),
  seed: z.number().int().min(-1).max(4294967295).optional(),
  negative: z.string().optional(),
  strength: z.number().min(0).max(1).optional(),
  /** Video length in seconds. */
  duration: z.number().positive().optional(),
  watermark: z.boolean().optional(),
  /** Provider-native fields passed through unchanged, validated by the model's own schema. */
  extra: z.record(z.string(), z.unknown()).optional(),
});

export type GenerationRequest = z.input<typeof generationRequestSchema>;
export type ParsedGenerationRequest = z.output<typeof generationRequestSchema>;
