/** How an image travels in a JSON body: a URL as it is, bytes as a `data:` URL. Pure. */
import type { ImageFormat, ResolvedImage } from "./types.js";

/** `data:image/<format>;base64,…` of the image's bytes. */
export function imageDataUrl(image: { format: ImageFormat; bytes: Uint8Array }): string {
  return `data:image/${image.format};base64,${Buffer.from(image.bytes).toString("base64")}`;
}

/** A resolved image's URL, or the data URL of its bytes. */
export function imageReference(image: ResolvedImage): string {
  return image.source === "url" ? image.url : imageDataUrl(image);
}
