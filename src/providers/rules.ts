/**
 * The model rules every provider shares, in one place: a request is checked against its model's capability
 * record before anything is sent. Request rules: the kind, the prompt length, the generic options the model
 * accepts and the values it declares (ratios, resolutions, durations). Image rules: how many, how they travel
 * (URLs only, or URLs or local files, never a mix), and for local files the format, bytes, pixel sizes and
 * aspect ratios (one tolerance). Pure: the media layer reads and sniffs input images into `ResolvedImage`
 * facts first; a provider only translates a request that passed these checks into its native request.
 */
import { formatBytes } from "../bytes.js";
import { ValidationError, type ValidationIssue } from "../errors.js";
import type { ParsedGenerationRequest } from "./request.js";
import {
  GENERIC_OPTIONS,
  type GenericOption,
  type ImageFormat,
  type ImageLimits,
  type ModelCapability,
  type ProviderRequest,
  type ResolvedImage,
  type TaskKind,
} from "./types.js";

/** The fields of a request the request rules look at (a parsed SDK request or a provider request). */
export type RequestFields = Pick<ParsedGenerationRequest, "kind" | "prompt" | GenericOption>;

/** How an option is named in messages: `ratio` for the SDK, `--ratio` for the CLI. */
export type OptionLabel = (option: GenericOption) => string;

/** Two aspect ratios closer than this, relative to the first, are the same: 1920×1080 and 1000×563 match. */
export const ASPECT_TOLERANCE = 0.01;

const FORMAT_LABEL: Record<ImageFormat, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP" };

function list(values: readonly (string | number)[]): string {
  return values.length ? values.join(", ") : "none";
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Every generic option `request` sets that `model` does not accept, one issue each naming option and model. */
export function unacceptedOptions(
  request: Pick<RequestFields, GenericOption>,
  model: ModelCapability,
  label: OptionLabel = (option) => option,
): ValidationIssue[] {
  const accepted = model.options.map(label);
  const issues: ValidationIssue[] = [];
  for (const option of GENERIC_OPTIONS) {
    if (request[option] === undefined || model.options.includes(option)) continue;
    const why = model.refusals?.[option];
    issues.push({
      path: label(option),
      message: `model ${model.id} does not accept ${label(option)}; it accepts ${accepted.length ? accepted.join(", ") : "none of the generation options"}${why ? `. Why: ${why}` : ""}`,
    });
  }
  return issues;
}

/** Every problem of `request`'s own fields for `model` (no images); empty when they fit. */
export function checkRequestFields(request: RequestFields, model: ModelCapability): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!model.kinds.includes(request.kind)) {
    issues.push({
      path: "model",
      message: `${model.id} does not do ${request.kind} (it does ${model.kinds.join(", ")})`,
    });
  }
  const length = [...request.prompt].length;
  if (length > model.maxPromptLength) {
    issues.push({
      path: "prompt",
      message: `is ${length} characters; ${model.id} accepts at most ${model.maxPromptLength}`,
    });
  }
  issues.push(...unacceptedOptions(request, model));

  if (request.ratio !== undefined && model.options.includes("ratio") && model.ratios) {
    if (!model.ratios.includes(request.ratio)) {
      issues.push({
        path: "ratio",
        message: `${request.ratio} is not a ratio of ${model.id}; use one of: ${list(model.ratios)}`,
      });
    }
  }
  if (request.resolution !== undefined && model.options.includes("resolution") && model.resolutions) {
    const wanted = request.resolution.toLowerCase();
    if (!model.resolutions.some((resolution) => resolution.toLowerCase() === wanted)) {
      issues.push({
        path: "resolution",
        message: `${request.resolution} is not a resolution of ${model.id}; use one of: ${list(model.resolutions)}`,
      });
    }
  }
  if (request.duration !== undefined && model.options.includes("duration") && model.durations) {
    const durations = model.durations;
    const fits =
      "min" in durations
        ? request.duration >= durations.min && request.duration <= durations.max
        : durations.includes(request.duration);
    if (!fits) {
      const allowed = "min" in durations ? `${durations.min}–${durations.max}` : list(durations);
      issues.push({
        path: "duration",
        message: `${request.duration}s is not a duration of ${model.id}; use ${allowed} seconds`,
      });
    }
  }
  return issues;
}

/**
 * The image count for `model` and `kind`. A model's `images.min` speaks for the kinds that need references
 * (compose, image-to-video); text-to-image needs none.
 */
export function checkImageCount(count: number, model: ModelCapability, kind: TaskKind): ValidationIssue[] {
  const limits = model.images;
  if (limits === null) {
    return count > 0 ? [{ path: "images", message: `model ${model.id} takes no reference images` }] : [];
  }
  const min = kind === "generate" ? 0 : limits.min;
  if (count < min) {
    const exactly = min === limits.max ? "exactly" : "at least";
    return [
      {
        path: "images",
        message: `model ${model.id} needs ${exactly} ${plural(min, "reference image")}; got ${count}`,
      },
    ];
  }
  if (count > limits.max) {
    return [
      {
        path: "images",
        message: `model ${model.id} takes at most ${plural(limits.max, "reference image")}; got ${count}`,
      },
    ];
  }
  return [];
}

/** The refusal of a local image (`what`: its name, "a data URL"…) by a model that takes URLs only. */
export function urlsOnlyMessage(model: ModelCapability, what: string): string {
  return `model ${model.id} accepts image URLs only, but got ${what}; host the file somewhere the service can reach and pass its https:// URL, or choose a model that accepts local files`;
}

/** The refusal of an image over the model's byte limit. */
export function tooLargeMessage(
  model: ModelCapability,
  limits: ImageLimits,
  name: string,
  size: number,
): string {
  return `${name} is ${formatBytes(size)}; model ${model.id} accepts at most ${formatBytes(limits.maxBytes)}`;
}

/** What a local image's header says, as the media layer sniffed it. */
export interface ImageFacts {
  /** A display name (never a full path). */
  name: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Size in bytes. */
  size: number;
}

/** Every limit one local image breaks: its format, bytes, sides and aspect ratio. */
export function checkImageFacts(image: ImageFacts, model: ModelCapability, limits: ImageLimits): string[] {
  const problems: string[] = [];
  const { name, width, height } = image;
  if (!limits.formats.includes(image.format)) {
    problems.push(
      `${name} is a ${FORMAT_LABEL[image.format]} image; model ${model.id} accepts ${limits.formats.map((f) => FORMAT_LABEL[f]).join(", ")}`,
    );
  }
  if (image.size > limits.maxBytes) problems.push(tooLargeMessage(model, limits, name, image.size));
  const size = `${width}×${height}`;
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (limits.maxSide !== undefined && long > limits.maxSide) {
    problems.push(`${name} is ${size} px; model ${model.id} accepts at most ${limits.maxSide} px per side`);
  }
  if (limits.minShortSide !== undefined && short < limits.minShortSide) {
    problems.push(
      `${name} is ${size} px; model ${model.id} needs at least ${limits.minShortSide} px on the short side`,
    );
  }
  if (limits.maxAspectRatio !== undefined && short > 0 && long / short > limits.maxAspectRatio) {
    problems.push(
      `${name} is ${size} px, an aspect ratio of ${(long / short).toFixed(2)}:1; model ${model.id} accepts at most ${limits.maxAspectRatio}:1`,
    );
  }
  return problems;
}

/** Whether two width/height ratios count as one aspect ratio (the one tolerance rule). */
export function sameAspectRatio(ratio: number, reference: number): boolean {
  return Math.abs(ratio - reference) / reference <= ASPECT_TOLERANCE;
}

/**
 * When the model needs all images to share one aspect ratio (first and last frame): one issue per image that
 * differs from the first local image. `images[i]` undefined is skipped (a URL, or an image that failed).
 */
export function aspectMismatches(
  images: readonly (ImageFacts | undefined)[],
  model: ModelCapability,
): ValidationIssue[] {
  if (!model.images?.sameAspectRatio) return [];
  const roles = model.images.roles;
  const label = (index: number, name: string) => (roles?.[index] ? `${name} (${roles[index]})` : name);
  let first: (ImageFacts & { index: number }) | undefined;
  const issues: ValidationIssue[] = [];
  for (const [index, image] of images.entries()) {
    if (!image) continue;
    if (!first) {
      first = { ...image, index };
      continue;
    }
    if (!sameAspectRatio(image.width / image.height, first.width / first.height)) {
      issues.push({
        path: `images.${index}`,
        message: `${label(index, image.name)} is ${image.width}×${image.height} but ${label(first.index, first.name)} is ${first.width}×${first.height}; model ${model.id} needs all images to share one aspect ratio`,
      });
    }
  }
  return issues;
}

/** Both providers take all URLs or all local files in one request, never a mix. */
export function mixedSourcesIssue(sources: readonly ("url" | "local")[]): ValidationIssue | undefined {
  if (!sources.includes("url") || !sources.includes("local")) return undefined;
  return {
    path: "images",
    message: "mixes URLs and local images; give all as URLs or all as local files",
  };
}

function factsOf(image: ResolvedImage): ImageFacts | undefined {
  if (image.source !== "bytes") return undefined;
  const { name, format, width, height } = image;
  return { name, format, width, height, size: image.bytes.byteLength };
}

/** Every image problem of resolved images for `model` and `kind`. */
export function checkResolvedImages(
  images: readonly ResolvedImage[],
  model: ModelCapability,
  kind: TaskKind,
): ValidationIssue[] {
  const issues = checkImageCount(images.length, model, kind);
  const limits = model.images;
  if (limits === null || images.length === 0) return issues;
  const facts = images.map(factsOf);
  for (const [index, image] of facts.entries()) {
    if (!image) continue;
    const path = `images.${index}`;
    if (limits.transport === "url") {
      issues.push({ path, message: urlsOnlyMessage(model, image.name) });
      continue;
    }
    for (const message of checkImageFacts(image, model, limits)) issues.push({ path, message });
  }
  const mixed = mixedSourcesIssue(images.map((image) => (image.source === "url" ? "url" : "local")));
  if (mixed && limits.transport !== "url") issues.push(mixed);
  issues.push(...aspectMismatches(limits.transport === "url" ? [] : facts, model));
  return issues;
}

/**
 * Throws one ValidationError listing every way `request` does not fit its model, before anything is sent:
 * what every provider's `submit` calls before it translates the request.
 */
export function assertFitsModel(request: ProviderRequest): void {
  const issues = [
    ...checkRequestFields(request, request.model),
    ...checkResolvedImages(request.images, request.model, request.kind),
  ];
  if (issues.length > 0) throw new ValidationError(issues);
}
