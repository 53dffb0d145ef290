/**
 * Provider-neutral request → Ark native body, for a request that passed the shared model rules
 * (src/providers/rules.ts). Only the fields the model's record lists are ever sent (Ark answers 400 to one it
 * does not support); a provider-native `extra` field the model does not accept is a ValidationError naming it,
 * before anything is sent. What is Ark's own: sizes per ratio, sets vs parallel requests, frame roles, and a
 * set's "inputs + outputs ≤ 15".
 */
import { ValidationError, type ValidationIssue } from "../../errors.js";
import { imageReference } from "../image-reference.js";
import { seedreamSize2k } from "../seedream-sizes.js";
import type { ProviderRequest } from "../types.js";
import type { ArkModel } from "./catalog.js";
import {
  type ArkImageRequest,
  type ArkVideoContent,
  type ArkVideoRequest,
  type ArkVideoRole,
  VIDEO_ROLES,
} from "./schemas.js";

/** Seedream 3.0 t2i's recommended sizes per ratio. */
const SIZES_30: Readonly<Record<string, string>> = {
  "1:1": "1024x1024",
  "4:3": "1152x864",
  "3:4": "864x1152",
  "16:9": "1280x720",
  "9:16": "720x1280",
  "3:2": "1248x832",
  "2:3": "832x1248",
  "21:9": "1512x648",
};
const SCALE: Readonly<Record<string, number>> = { "1k": 0.5, "2k": 1, "4k": 2 };
/** The seed servers' `quality: "hd"`: the largest preset a 4.x model has. */
const SEED_QUALITIES = ["standard", "hd"] as const;
/** Fields the seed servers sent that are not Ark's: mapped here (spec: shared seeds 000 and 002). */
const SEED_FIELDS = new Set(["quality", "style", "roles"]);

function sizeOf(request: ProviderRequest, model: ArkModel, issues: ValidationIssue[]): string | undefined {
  if (model.sizing === "adaptive") return "adaptive";
  if (request.size !== undefined) return request.size;
  const resolution = request.resolution?.toLowerCase();
  if (model.sizing === "pixels") return request.ratio ? SIZES_30[request.ratio] : undefined;
  if (request.ratio !== undefined) {
    const base = seedreamSize2k(request.ratio);
    if (!base) {
      issues.push({ path: "ratio", message: `${request.ratio} has no size on ${model.id}` });
      return undefined;
    }
    const scale = SCALE[resolution ?? "2k"] ?? 1;
    return `${Math.round(base[0] * scale)}x${Math.round(base[1] * scale)}`;
  }
  if (resolution !== undefined) return resolution.toUpperCase();
  const quality = request.extra?.quality;
  if (quality === "hd") return (model.resolutions?.at(-1) ?? "4k").toUpperCase();
  return undefined;
}

/** `extra` fields the model accepts (and the seed servers' fields), or issues naming the others. */
function extraFields(
  request: ProviderRequest,
  model: ArkModel,
  issues: ValidationIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request.extra ?? {})) {
    if (SEED_FIELDS.has(key)) continue;
    if ((model.fields as readonly string[]).includes(key)) out[key] = value;
    else
      issues.push({
        path: `extra.${key}`,
        message: `${model.id} does not accept ${key}; it accepts: ${model.fields.join(", ")}`,
      });
  }
  const quality = request.extra?.quality;
  if (quality !== undefined && !SEED_QUALITIES.includes(quality as (typeof SEED_QUALITIES)[number]))
    issues.push({ path: "extra.quality", message: `must be one of: ${SEED_QUALITIES.join(", ")}` });
  const style = request.extra?.style;
  if (style !== undefined && (typeof style !== "string" || style.trim() === ""))
    issues.push({ path: "extra.style", message: "must be a non-empty string" });
  return out;
}

/** The prompt with the seed servers' `style` folded in, as their server meant it ("…, anime style"). */
function promptOf(request: ProviderRequest): string {
  const style = request.extra?.style;
  return typeof style === "string" && style.trim()
    ? `${request.prompt}, ${style.trim()} style`
    : request.prompt;
}

function only(model: ArkModel, body: Record<string, unknown>): Record<string, unknown> {
  const allowed = new Set<string>(["model", "prompt", "content", ...model.fields]);
  return Object.fromEntries(
    Object.entries(body).filter(([key, value]) => value !== undefined && allowed.has(key)),
  );
}

function fail(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * The image request bodies for one submit: one on 4.x (a set of `count` with sequential_image_generation),
 * `count` identical bodies on 3.0 (sent in parallel, one image each).
 */
export function toImageRequests(
  request: ProviderRequest,
  model: ArkModel,
  options: { modelId: string; stream: boolean },
): ArkImageRequest[] {
  const issues: ValidationIssue[] = [];
  const count = request.count ?? 1;
  const images = request.images.map(imageReference);
  if (model.countBy === "set" && images.length + count > 15)
    issues.push({
      path: "count",
      message: `${model.id} makes at most 15 images including the ${images.length} reference image(s): use -n ${Math.max(1, 15 - images.length)} or fewer`,
    });
  const extra = extraFields(request, model, issues);
  const body: Record<string, unknown> = {
    model: options.modelId,
    prompt: promptOf(request),
    image:
      images.length === 0
        ? undefined
        : images.length === 1 && model.sizing !== "preset-or-pixels"
          ? images[0]
          : images,
    size: sizeOf(request, model, issues),
    seed: request.seed,
    watermark: request.watermark,
    response_format: "url",
    ...(model.countBy === "set" && count > 1
      ? { sequential_image_generation: "auto", sequential_image_generation_options: { max_images: count } }
      : {}),
    ...(options.stream && model.fields.includes("stream") ? { stream: true } : {}),
    ...extra,
  };
  fail(issues);
  const native = only(model, body) as ArkImageRequest;
  return model.countBy === "parallel" ? Array.from({ length: count }, () => ({ ...native })) : [native];
}

function rolesOf(
  request: ProviderRequest,
  model: ArkModel,
  issues: ValidationIssue[],
): (ArkVideoRole | undefined)[] {
  const asked = request.extra?.roles;
  const count = request.images.length;
  if (asked !== undefined) {
    if (
      !Array.isArray(asked) ||
      asked.length !== count ||
      !asked.every((role) => VIDEO_ROLES.includes(role))
    ) {
      issues.push({
        path: "extra.roles",
        message: `must list one role per image (${count}), each one of: ${VIDEO_ROLES.join(", ")}`,
      });
      return [];
    }
    const roles = asked as ArkVideoRole[];
    const references = roles.filter((role) => role === "reference_image").length;
    if (references > 0 && references !== roles.length)
      issues.push({
        path: "extra.roles",
        message: "reference images cannot be mixed with first/last frames",
      });
    if (references > 0 && !model.id.includes("lite-i2v") && !model.id.startsWith("ep-"))
      issues.push({
        path: "extra.roles",
        message: `${model.id} takes no reference images; use seedance-1.0-lite-i2v`,
      });
    return roles;
  }
  if (count === 1) return ["first_frame"];
  if (count === 2) return ["first_frame", "last_frame"];
  if (count > 2)
    issues.push({ path: "images", message: `${count} images need extra.roles (reference_image, up to 4)` });
  return [];
}

/** The video task body: the prompt and the images with their roles as `content`, the options as fields. */
export function toVideoRequest(
  request: ProviderRequest,
  model: ArkModel,
  options: { modelId: string },
): ArkVideoRequest {
  const issues: ValidationIssue[] = [];
  const extra = extraFields(request, model, issues);
  const roles = rolesOf(request, model, issues);
  const content: ArkVideoContent[] = [{ type: "text", text: promptOf(request) }];
  request.images.forEach((image, index) => {
    const role = roles[index];
    content.push({ type: "image_url", image_url: { url: imageReference(image) }, ...(role ? { role } : {}) });
  });
  fail(issues);
  return only(model, {
    model: options.modelId,
    content,
    ratio: request.ratio,
    duration: request.duration,
    resolution: request.resolution?.toLowerCase(),
    seed: request.seed,
    watermark: request.watermark,
    ...extra,
  }) as ArkVideoRequest;
}

/** Builds (and so checks) the native bodies of `request` without sending anything: the CLI's preflight. */
export function toNativeRequest(request: ProviderRequest): ArkImageRequest[] | ArkVideoRequest {
  const model = request.model as ArkModel;
  if (model.provider !== "ark" || !("api" in model))
    throw new ValidationError([{ path: "model", message: `${model.id} is not an Ark model` }]);
  return model.api === "videos"
    ? toVideoRequest(request, model, { modelId: model.id })
    : toImageRequests(request, model, { modelId: model.id, stream: false });
}
