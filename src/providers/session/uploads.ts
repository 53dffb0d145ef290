/**
 * Input images → the parts a jimeng-api server takes: a URL it downloads, or bytes uploaded as multipart.
 * Images of the provider-neutral path arrive resolved (the media layer read and sniffed them); the
 * SessionClient's own route methods take URLs, data URLs, read files or bytes as given, and the server judges
 * what they contain.
 */
import { ValidationError } from "../../errors.js";
import type { ImageFormat, ResolvedImage } from "../types.js";
import { MAX_UPLOAD_BYTES } from "./catalog.js";
import type { ImageSource } from "./schemas.js";

/** An input image ready for the wire: a URL the server downloads, or bytes uploaded as multipart. */
export type UploadImage =
  | { source: "url"; url: string }
  | { source: "bytes"; bytes: Uint8Array; name: string; contentType: string };

const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
};
const EXTENSIONS: Record<string, string> = { jpg: "image/jpeg", ...CONTENT_TYPES };
const UNKNOWN_TYPE = "application/octet-stream";

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** True for a string image source that names a local file (the caller reads it). */
export function isLocalPath(source: ImageSource): source is string {
  return typeof source === "string" && !isHttpUrl(source) && !source.startsWith("data:");
}

/** The upload part of an image the media layer resolved (format and name already known). */
export function uploadOfResolved(image: ResolvedImage): UploadImage {
  if (image.source === "url") return image;
  return { source: "bytes", bytes: image.bytes, name: image.name, contentType: CONTENT_TYPES[image.format] };
}

/**
 * One image of a route body as an upload part. Pure: local file paths must already have been read
 * (`{ bytes, name }`); a path string here is a ValidationError. The content type comes from a data URL's
 * media type or the file name's extension.
 */
export function toUploadImage(source: ImageSource, path: string): UploadImage {
  if (typeof source === "string" && isHttpUrl(source)) return { source: "url", url: source };
  if (typeof source === "object" && !(source instanceof Uint8Array) && "url" in source) {
    if (!isHttpUrl(source.url)) throw new ValidationError([{ path, message: "must be an http(s) URL" }]);
    return { source: "url", url: source.url };
  }
  if (typeof source === "string") {
    const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(source);
    if (!match) throw new ValidationError([{ path, message: "a local path must be read before upload" }]);
    const bytes = match[2]
      ? Buffer.from(match[3] ?? "", "base64")
      : Buffer.from(decodeURIComponent(match[3] ?? ""));
    return checkedBytes(bytes, undefined, path, match[1]?.toLowerCase() || undefined);
  }
  if (source instanceof Uint8Array) return checkedBytes(source, undefined, path);
  return checkedBytes(source.bytes, source.name, path);
}

function checkedBytes(
  bytes: Uint8Array,
  name: string | undefined,
  path: string,
  declaredType?: string,
): UploadImage {
  if (bytes.byteLength === 0) throw new ValidationError([{ path, message: "the image is empty" }]);
  if (bytes.byteLength > MAX_UPLOAD_BYTES) {
    throw new ValidationError([
      {
        path,
        message: `the image is ${(bytes.byteLength / 1024 / 1024).toFixed(1)} MB; jimeng-api accepts at most 100 MB per file`,
      },
    ]);
  }
  const base = name?.split(/[\\/]/).pop()?.trim();
  const extension = base?.split(".").pop()?.toLowerCase();
  const contentType =
    (declaredType?.startsWith("image/") ? declaredType : undefined) ??
    (extension ? EXTENSIONS[extension] : undefined) ??
    UNKNOWN_TYPE;
  const fallbackExtension = contentType === UNKNOWN_TYPE ? "bin" : contentType.slice("image/".length);
  return {
    source: "bytes",
    bytes,
    // A display file name only (no directories).
    name: base || `${path.replace(/\W+/g, "-")}.${fallbackExtension === "jpeg" ? "jpg" : fallbackExtension}`,
    contentType,
  };
}
