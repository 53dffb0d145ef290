/**
 * Every check the SDK and the provider make before sending, made by the CLI before it shows "submitting":
 * the request's schema, the model rules (prompt length, options, ratios, durations…), the reference images
 * (read, sniffed, measured) and the provider's native request. A local mistake then ends before any progress
 * line.
 */
import { ValidationError } from "../errors.js";
import { PROVIDERS } from "../providers/registry.js";
import { type GenerationRequest, generationRequestSchema } from "../providers/request.js";
import { checkRequestFields } from "../providers/rules.js";
import type { ModelCapability, ResolvedImage, TaskKind } from "../providers/types.js";
import { parseOrThrow } from "../validation.js";

export async function preflight(request: GenerationRequest, model: ModelCapability): Promise<void> {
  const parsed = parseOrThrow(generationRequestSchema, request);
  const issues = checkRequestFields(parsed, model);
  if (issues.length > 0) throw new ValidationError(issues);
  const { images: inputs = [], model: _name, ...rest } = parsed;
  const provider = await PROVIDERS[model.provider]();
  let images: ResolvedImage[] = [];
  if (inputs.length > 0 || parsed.kind !== "generate") {
    const { resolveImages } = await import("../media/inputs.js");
    try {
      images = await resolveImages(inputs, model, { kind: parsed.kind });
    } catch (error) {
      throw withLocalFileModels(error, provider.models, parsed.kind);
    }
  }
  provider.toNativeRequest({ ...rest, model, images });
}

/** A "URLs only" refusal, with the models of the same provider that take local files for this kind. */
function withLocalFileModels(error: unknown, models: readonly ModelCapability[], kind: TaskKind): unknown {
  if (!(error instanceof ValidationError) || !error.message.includes("accepts image URLs only")) return error;
  const local = models
    .filter((candidate) => candidate.kinds.includes(kind) && candidate.images?.transport !== "url")
    .filter((candidate) => candidate.images !== null)
    .map((candidate) => candidate.id);
  if (local.length === 0) return error;
  return new ValidationError(error.issues, {
    message: error.message,
    hint: `models that take local files for ${kind}: ${local.join(", ")} (e.g. -m ${local[0]})`,
  });
}
