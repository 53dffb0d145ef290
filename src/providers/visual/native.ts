/**
 * A checked, provider-neutral request → the Visual API's native body: ratio / resolution / size →
 * width/height, size or aspect_ratio; duration → frames; count 1 → force_single; strength → scale; seed;
 * images → image_urls or binary_data_base64; then `extra` merged and the whole body validated by the
 * req_key's schema. Pure. The model rules (src/providers/rules.ts) ran before; what is refused here is what
 * the native body cannot express.
 */
import { ValidationError, type ValidationIssue } from "../../errors.js";
import type { ProviderRequest } from "../types.js";
import { visualSpec } from "./catalog.js";
import { isVisualModelId, parseNativeBody, type VisualModelId } from "./schemas.js";

export interface VisualNativeRequest {
  reqKey: VisualModelId;
  action: "async" | "process";
  /** Validated native body, defaults applied, without `req_key`. */
  body: Record<string, unknown>;
}

/** 4.x: outputs and input images together. */
const MAX_IMAGES_IN_AND_OUT = 15;

function fail(model: string, issues: ValidationIssue[]): never {
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new ValidationError(issues, { message: `${model}: ${text}` });
}

function mapScale(strength: number, range: { min: number; max: number; integer: boolean }): number {
  const value = range.min + strength * (range.max - range.min);
  return range.integer ? Math.round(value) : Math.round(value * 100) / 100;
}

/** The native body of a request that passed the model rules; throws ValidationError naming the field. */
export function toVisualNativeRequest(request: ProviderRequest): VisualNativeRequest {
  const model = request.model;
  if (model.provider !== "visual" || !isVisualModelId(model.id))
    fail(model.id, [{ path: "model", message: "is not a Visual API model" }]);
  const reqKey = model.id as VisualModelId;
  const spec = visualSpec(reqKey);
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
    const room = MAX_IMAGES_IN_AND_OUT - request.images.length;
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
