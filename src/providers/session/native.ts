/**
 * Session requests in native form: a parsed route body and its upload parts → the wire body (JSON, or
 * multipart when local bytes are uploaded), and a checked, provider-neutral request → that native request.
 * Pure. The model rules (src/providers/rules.ts) ran before; what is refused here is what the routes cannot
 * express.
 */
import { ValidationError } from "../../errors.js";
import { mixedSourcesIssue } from "../rules.js";
import type { ProviderRequest, TaskKind } from "../types.js";
import { DEFAULT_IMAGE_MODEL, DEFAULT_VIDEO_MODEL, videoModelSpec } from "./catalog.js";
import { type ImageSource, parseRouteBody, type SubmitKind, schemaFor } from "./schemas.js";
import { type UploadImage, uploadOfResolved } from "./uploads.js";

export interface NativeFile {
  field: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export type SessionNativeBody =
  | { type: "json"; json: Record<string, unknown> }
  | { type: "multipart"; fields: [string, string][]; files: NativeFile[] };

export interface SessionNativeRequest {
  kind: SubmitKind;
  /** The model the body names (always explicit, so a CN server never silently falls back). */
  model: string;
  /** Client-side: keep the first N outputs. */
  count?: number;
  body: SessionNativeBody;
}

export type ParsedBody = Record<string, unknown> & { model?: string; count?: number };

/** A parsed body's input images in order: `images`, then video `file_paths` (URLs). */
export function imageSourcesOf(parsed: ParsedBody): ImageSource[] {
  const images = (parsed.images as ImageSource[] | undefined) ?? [];
  const paths = (parsed.file_paths as string[] | undefined) ?? [];
  return [...images, ...paths];
}

/**
 * Builds the wire body from a parsed route body and its images (already turned into upload parts).
 * URLs only → JSON (`images: [url]` for compositions, `file_paths` for video frames); local bytes only →
 * multipart (repeated `images` field, or `image_file_1`/`image_file_2` for frames). A mix is refused: the
 * server ignores URLs once files are uploaded.
 */
export function buildNativeRequest(
  kind: SubmitKind,
  parsed: ParsedBody,
  images: UploadImage[],
): SessionNativeRequest {
  const { count, images: _images, file_paths: _paths, ...rest } = parsed;
  const model =
    (parsed.model as string | undefined) ?? (kind === "video" ? DEFAULT_VIDEO_MODEL : DEFAULT_IMAGE_MODEL);
  const fields: Record<string, unknown> = { ...rest, model };
  if (kind === "video" && fields.duration === undefined) {
    fields.duration = videoModelSpec(model)?.defaultDuration ?? 5;
  }
  const request = (body: SessionNativeBody): SessionNativeRequest => ({
    kind,
    model,
    ...(typeof count === "number" ? { count } : {}),
    body,
  });

  if (kind === "image" || images.length === 0) return request({ type: "json", json: fields });
  const urls = images.filter((i): i is Extract<UploadImage, { source: "url" }> => i.source === "url");
  const files = images.filter((i): i is Extract<UploadImage, { source: "bytes" }> => i.source === "bytes");
  const mixed = mixedSourcesIssue(images.map((image) => (image.source === "url" ? "url" : "local")));
  if (mixed) throw new ValidationError([mixed]);
  if (files.length === 0) {
    const list = urls.map((u) => u.url);
    return request({
      type: "json",
      json: kind === "compose" ? { ...fields, images: list } : { ...fields, file_paths: list },
    });
  }
  const textFields: [string, string][] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    textFields.push([name, typeof value === "string" ? value : String(value)]);
  }
  return request({
    type: "multipart",
    fields: textFields,
    files: files.map((file, index) => ({
      field: kind === "compose" ? "images" : `image_file_${index + 1}`,
      name: file.name,
      contentType: file.contentType,
      bytes: file.bytes,
    })),
  });
}

/** Maps the provider-neutral task kind to the session route family. */
export function submitKindOf(kind: TaskKind): SubmitKind {
  return kind === "generate" ? "image" : kind;
}

/**
 * The native request for a ProviderRequest that passed the model rules (images resolved by the media layer).
 * Throws ValidationError for what the route's schema refuses.
 */
export function toSessionNativeRequest(request: ProviderRequest): SessionNativeRequest {
  const model = request.model;
  if (model.provider !== "session") {
    throw new ValidationError([{ path: "model", message: `${model.id} is not a session model` }]);
  }
  if (request.kind === "generate" && request.images.length > 0) {
    throw new ValidationError([
      { path: "images", message: "text-to-image takes no images; use the compose kind" },
    ]);
  }
  const kind = submitKindOf(request.kind);
  const sources: ImageSource[] = request.images.map((image) =>
    image.source === "url" ? { url: image.url } : { bytes: image.bytes, name: image.name },
  );
  const body: Record<string, unknown> = {
    ...request.extra,
    prompt: request.prompt,
    model: model.id,
  };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set("ratio", request.ratio);
  set("resolution", request.resolution);
  if (kind === "video") {
    set("duration", request.duration);
    if (sources.length > 0) body.images = sources;
  } else {
    set("negative_prompt", request.negative);
    set("sample_strength", request.strength);
    set("count", request.count);
    if (kind === "compose") body.images = sources;
  }
  const parsed = parseRouteBody(schemaFor(kind, "async"), body) as ParsedBody;
  return buildNativeRequest(kind, parsed, request.images.map(uploadOfResolved));
}
