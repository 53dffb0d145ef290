/**
 * From the seeds' request bodies to the SDK's generation request, and the check of that request against the
 * provider's model (before the task is stored: a bad field is a `400` naming it, and nothing is sent). Pure.
 */
import type { z } from "zod";
import { type ProviderName, ValidationError } from "../errors.js";
import { generationRequestSchema } from "../providers/request.js";
import { checkRequestFields } from "../providers/rules.js";
import type { ModelCapability, Provider, TaskKind } from "../providers/types.js";
import type { StoredRequest } from "../queue/store.js";
import { parseOrThrow } from "../validation.js";
import {
  type batchGenerateBody,
  type GenericTaskBody,
  type ImageTaskBody,
  type imageToImageBody,
  SEED_DEFAULT_MODEL,
  type VideoTaskBody,
} from "./schemas.js";

/**
 * The seeds' model names, mapped to each provider's: the Visual API and session servers know the `jimeng-*`
 * aliases; Ark serves the Seedream models under their own ids (the seeds' default among them).
 */
const SEED_MODELS: Readonly<Record<ProviderName, Readonly<Record<string, string>>>> = {
  visual: {
    "doubao-seedream-3.0-t2i": "jimeng-3.0",
    "doubao-seedream-3-0-t2i-250415": "jimeng-3.0",
    "doubao-seedream-4.0": "jimeng-4.0",
    "doubao-seedream-4-0-250828": "jimeng-4.0",
  },
  session: {
    "doubao-seedream-3.0-t2i": "jimeng-3.0",
    "doubao-seedream-3-0-t2i-250415": "jimeng-3.0",
    "doubao-seedream-4.0": "jimeng-4.0",
    "doubao-seedream-4-0-250828": "jimeng-4.0",
  },
  ark: {
    "doubao-seedream-3.0-t2i": "doubao-seedream-3-0-t2i-250415",
    "doubao-seedream-4.0": "doubao-seedream-4-0-250828",
  },
};

/** A model name as a seed client sends it, in the provider's own terms. */
export function seedModel(provider: Pick<Provider, "name">, name: string): string {
  return SEED_MODELS[provider.name][name] ?? name;
}

/** Seed 000's sizes as ratios (every image model takes a ratio; not every one takes 256x256). */
const RATIO_OF_SIZE: Readonly<Record<string, string>> = {
  "256x256": "1:1",
  "512x512": "1:1",
  "1024x1024": "1:1",
  "1024x1792": "9:16",
  "1792x1024": "16:9",
};

export interface MappedRequest {
  request: StoredRequest;
  /** The seed's own fields, echoed in answers. */
  meta: Record<string, unknown>;
  /** Images (or videos) the task asks for: the images-per-day quota counts these. */
  outputs: number;
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Checks `request` against the provider's model for its kind and returns it with the model's own id.
 * Throws ValidationError naming the field.
 */
export function checkRequest(provider: Provider, request: StoredRequest): StoredRequest {
  const mapped = request.model ? seedModel(provider, request.model) : undefined;
  const parsed = parseOrThrow(generationRequestSchema, { ...request, ...(mapped ? { model: mapped } : {}) });
  let model: ModelCapability;
  try {
    model = provider.resolveModel(parsed.model, parsed.kind);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(error.issues.map((issue) => ({ ...issue, path: issue.path || "model" })));
    }
    throw error;
  }
  const issues = checkRequestFields(parsed, model);
  if (issues.length) throw new ValidationError(issues);
  return { ...request, model: model.id };
}

function qualityResolution(model: ModelCapability, quality: string | undefined): string | undefined {
  if (!quality || !model.options.includes("resolution") || !model.resolutions?.length) return undefined;
  return quality === "hd" ? (model.resolutions[1] ?? model.resolutions[0]) : model.resolutions[0];
}

function modelFor(provider: Provider, name: string | undefined, kind: TaskKind): ModelCapability {
  const mapped = name ? seedModel(provider, name) : undefined;
  try {
    return provider.resolveModel(mapped, kind);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(error.issues.map((issue) => ({ ...issue, path: issue.path || "model" })));
    }
    throw error;
  }
}

/** Seed 000's image task (with `images`: a composition). */
export function fromImageBody(provider: Provider, body: ImageTaskBody): MappedRequest {
  const kind: TaskKind = body.images ? "compose" : "generate";
  const modelName = body.model ?? (kind === "generate" ? SEED_DEFAULT_MODEL : undefined);
  const model = modelFor(provider, modelName, kind);
  const count = body.n !== undefined && (body.n > 1 || model.options.includes("count")) ? body.n : undefined;
  const request = checkRequest(
    provider,
    compact<StoredRequest>({
      kind,
      prompt: body.style ? `${body.prompt}, ${body.style} style` : body.prompt,
      model: model.id,
      images: body.images,
      count,
      ratio: body.ratio ?? (body.size ? RATIO_OF_SIZE[body.size] : undefined),
      resolution: body.resolution ?? qualityResolution(model, body.quality),
      seed: body.seed,
      negative: body.negative,
      strength: body.strength,
    }),
  );
  const meta = compact({
    model: body.model ?? SEED_DEFAULT_MODEL,
    prompt: body.prompt,
    size: body.size ?? "1024x1024",
    quality: body.quality ?? "standard",
    style: body.style,
    n: body.n ?? 1,
    options: body.options,
  });
  return { request, meta, outputs: body.n ?? 1 };
}

export function fromVideoBody(provider: Provider, body: VideoTaskBody): MappedRequest {
  const request = checkRequest(
    provider,
    compact<StoredRequest>({
      kind: "video",
      prompt: body.prompt,
      model: body.model,
      images: body.images,
      duration: body.duration,
      ratio: body.ratio,
      resolution: body.resolution,
      seed: body.seed,
    }),
  );
  return { request, meta: compact({ model: body.model ?? request.model, prompt: body.prompt }), outputs: 1 };
}

export function fromGenericBody(provider: Provider, body: GenericTaskBody): MappedRequest {
  if (body.type === "video") {
    return fromVideoBody(provider, compact({ ...body, type: undefined, n: undefined, size: undefined }));
  }
  return fromImageBody(provider, compact({ ...body, type: undefined, duration: undefined }));
}

/** Seed 003's image-to-image. */
export function fromImageToImage(provider: Provider, body: z.output<typeof imageToImageBody>): MappedRequest {
  // The Visual API's 4.x models take reference images by URL only; its i2i model takes inline data too.
  const fallback =
    provider.name === "visual" && body.input_image.startsWith("data:") ? "jimeng_i2i_v30" : undefined;
  const request = checkRequest(
    provider,
    compact<StoredRequest>({
      kind: "compose",
      prompt: body.prompt,
      model: body.model ?? fallback,
      images: [body.input_image],
      ratio: body.aspect_ratio,
      seed: body.seed,
      strength: body.image_prompt_strength,
    }),
  );
  const meta = compact({
    aspect_ratio: body.aspect_ratio,
    seed: body.seed,
    output_format: body.output_format,
    image_prompt_strength: body.image_prompt_strength,
  });
  return { request, meta, outputs: 1 };
}

/** Seed 003's batch: one request per prompt. */
export function fromBatchBody(provider: Provider, body: z.output<typeof batchGenerateBody>): MappedRequest[] {
  const prompts = body.prompts ?? Array.from({ length: body.count ?? 1 }, () => body.prompt as string);
  return prompts.map((prompt, index) => {
    try {
      const request = checkRequest(
        provider,
        compact<StoredRequest>({
          kind: "generate",
          prompt,
          model: body.model,
          ratio: body.aspect_ratio,
          seed: body.seed,
        }),
      );
      const meta = compact({
        aspect_ratio: body.aspect_ratio,
        seed: body.seed,
        output_format: body.output_format,
      });
      return { request, meta, outputs: 1 };
    } catch (error) {
      if (error instanceof ValidationError && body.prompts) {
        throw new ValidationError(
          error.issues.map((issue) => ({ ...issue, path: `prompts.${index}.${issue.path}` })),
        );
      }
      throw error;
    }
  });
}
