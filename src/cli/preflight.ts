/**
 * Every check the SDK and the provider make before sending, made by the CLI before it shows "submitting":
 * the request's schema, the model's limits (prompt length, ratios, durations…), the reference images (read,
 * sniffed, measured) and the provider's native body. A local mistake then ends before any progress line.
 */
import { ValidationError } from "../errors.js";
import { type GenerationRequest, generationRequestSchema } from "../providers/request.js";
import type { ModelCapability, ResolvedImage, TaskKind } from "../providers/types.js";
import { checkAgainstModel } from "../tasks/check.js";
import { parseOrThrow } from "../validation.js";

export async function preflight(request: GenerationRequest, model: ModelCapability): Promise<void> {
  const parsed = parseOrThrow(generationRequestSchema, request);
  const issues = checkAgainstModel(parsed, model);
  if (issues.length > 0) throw new ValidationError(issues);
  const { images: inputs = [], model: _name, ...rest } = parsed;
  if (inputs.length === 0 && parsed.kind === "generate") {
    await nativeCheck({ ...rest, model, images: [] });
    return;
  }
  const { resolveImages } = await import("../media/inputs.js");
  let images: ResolvedImage[];
  try {
    images = await resolveImages(inputs, model);
  } catch (error) {
    throw await withLocalFileModels(error, model, parsed.kind);
  }
  await nativeCheck({ ...rest, model, images });
}

/** A "URLs only" refusal, with the models of the same provider that take local files for this kind. */
async function withLocalFileModels(error: unknown, model: ModelCapability, kind: TaskKind): Promise<unknown> {
  if (!(error instanceof ValidationError) || !error.message.includes("accepts image URLs only")) return error;
  const registry =
    model.provider === "visual"
      ? (await import("../providers/visual/models.js")).VISUAL_MODELS
      : (await import("../providers/session/models.js")).SESSION_MODELS;
  const local = registry
    .filter((candidate) => candidate.kinds.includes(kind) && candidate.images?.transport === "url-or-base64")
    .map((candidate) => candidate.id);
  if (local.length === 0) return error;
  return new ValidationError(error.issues, {
    message: error.message,
    hint: `models that take local files for ${kind}: ${local.join(", ")} (e.g. -m ${local[0]})`,
  });
}

async function nativeCheck(request: import("../providers/types.js").ProviderRequest): Promise<void> {
  if (request.model.provider === "visual") {
    const { toNativeRequest } = await import("../providers/visual/models.js");
    toNativeRequest(request);
  } else {
    const { toNativeRequest } = await import("../providers/session/models.js");
    toNativeRequest(request);
  }
}
