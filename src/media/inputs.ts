/**
 * Reference images in, checked images out: a local path, an http(s) URL, a data URL or bytes become
 * ResolvedImage values, checked against every image limit of the model before any request (the rules are
 * src/providers/rules.ts; this module reads, sniffs and measures, and refuses oversized files before reading
 * them). All problems are reported at once in one ValidationError, one issue per problem, naming files by
 * their base name only.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { AbortError, ValidationError, type ValidationIssue } from "../errors.js";
import type { ImageInput } from "../providers/request.js";
import {
  aspectMismatches,
  checkImageCount,
  checkImageFacts,
  type ImageFacts,
  mixedSourcesIssue,
  tooLargeMessage,
  urlsOnlyMessage,
} from "../providers/rules.js";
import type {
  ImageFormat,
  ImageLimits,
  ModelCapability,
  ResolvedImage,
  TaskKind,
} from "../providers/types.js";
import { sniffImage } from "./sniff.js";

export interface ResolveImagesOptions {
  signal?: AbortSignal;
  /** The request's kind: text-to-image needs no images whatever the model's minimum (default "compose"). */
  kind?: TaskKind;
}

const EXTENSION: Record<ImageFormat, string> = { jpeg: "jpg", png: "png", webp: "webp" };

type Classified =
  | { kind: "url"; url: string }
  | { kind: "file"; path: string; name: string }
  | { kind: "data"; payload: string; base64: boolean; name: string }
  | { kind: "bytes"; bytes: Uint8Array; name: string };

type Checked = { image: ResolvedImage; facts?: ImageFacts } | undefined;

/**
 * Checks `inputs` against `model`'s image limits and turns them into what a provider submits. URLs are
 * passed through unfetched; files, data URLs and bytes are read and their headers checked. Throws one
 * ValidationError listing every problem (paths `images` and `images.N`), or AbortError.
 */
export async function resolveImages(
  inputs: readonly ImageInput[],
  model: ModelCapability,
  options: ResolveImagesOptions = {},
): Promise<ResolvedImage[]> {
  const issues: ValidationIssue[] = checkImageCount(inputs.length, model, options.kind ?? "compose");
  const limits = model.images;
  if (limits === null) return issues.length > 0 ? fail(issues) : [];

  const checked: Checked[] = [];
  for (const [index, input] of inputs.entries()) {
    throwIfAborted(options.signal);
    const path = `images.${index}`;
    const report = (message: string) => issues.push({ path, message });
    checked.push(await checkOne(classify(input, index), index, limits, model, report, options.signal));
  }

  const sources = checked.flatMap((entry) => (entry ? [entry.image.source === "url" ? "url" : "local"] : []));
  const mixed = mixedSourcesIssue(sources as ("url" | "local")[]);
  if (mixed && limits.transport !== "url") issues.push(mixed);
  issues.push(
    ...aspectMismatches(
      checked.map((entry) => entry?.facts),
      model,
    ),
  );
  if (issues.length > 0) return fail(issues);
  return checked.map((entry) => (entry as NonNullable<Checked>).image);
}

function fail(issues: ValidationIssue[]): never {
  throw new ValidationError(issues);
}

function classify(input: ImageInput, index: number): Classified {
  const fallbackName = `image ${index + 1}`;
  if (typeof input !== "string") return { kind: "bytes", bytes: input, name: fallbackName };
  const value = input.trim();
  if (/^https?:\/\//i.test(value)) return { kind: "url", url: value };
  if (/^data:/i.test(value)) {
    const comma = value.indexOf(",");
    const meta = comma === -1 ? "" : value.slice(5, comma);
    return {
      kind: "data",
      payload: comma === -1 ? "" : value.slice(comma + 1),
      base64: /;base64$/i.test(meta),
      name: fallbackName,
    };
  }
  if (/^file:\/\//i.test(value)) {
    try {
      const path = fileURLToPath(value);
      return { kind: "file", path, name: basename(path) };
    } catch {
      return { kind: "file", path: value, name: basename(value) };
    }
  }
  return { kind: "file", path: input, name: basename(input) || input };
}

async function checkOne(
  input: Classified,
  index: number,
  limits: ImageLimits,
  model: ModelCapability,
  report: (message: string) => void,
  signal: AbortSignal | undefined,
): Promise<Checked> {
  if (input.kind === "url") {
    try {
      new URL(input.url);
    } catch {
      report(`${input.url.slice(0, 80)} is not a valid URL`);
      return undefined;
    }
    return { image: { source: "url", url: input.url } };
  }

  if (limits.transport === "url") {
    const what =
      input.kind === "file" ? input.name : input.kind === "data" ? "a data URL" : "raw image bytes";
    report(urlsOnlyMessage(model, what));
    return undefined;
  }

  const loaded = await load(input, limits, model, report, signal);
  if (!loaded) return undefined;
  const { bytes, name } = loaded;

  const header = sniffImage(bytes);
  if (!header.ok) {
    report(`${name} cannot be used: ${header.reason}`);
    return undefined;
  }
  const facts: ImageFacts = {
    name,
    format: header.format,
    width: header.width,
    height: header.height,
    size: bytes.byteLength,
  };
  for (const problem of checkImageFacts(facts, model, limits)) report(problem);

  const uploadName = input.kind === "file" ? name : `image-${index + 1}.${EXTENSION[header.format]}`;
  return {
    image: {
      source: "bytes",
      bytes,
      format: header.format,
      width: header.width,
      height: header.height,
      name: uploadName,
    },
    facts,
  };
}

/** The bytes of a file, data URL or buffer, refusing anything over the model's size limit before reading it. */
async function load(
  input: Exclude<Classified, { kind: "url" }>,
  limits: ImageLimits,
  model: ModelCapability,
  report: (message: string) => void,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Uint8Array; name: string } | undefined> {
  const tooLarge = (name: string, size: number) => report(tooLargeMessage(model, limits, name, size));

  if (input.kind === "bytes") {
    if (input.bytes.byteLength > limits.maxBytes) return void tooLarge(input.name, input.bytes.byteLength);
    return { bytes: input.bytes, name: input.name };
  }

  if (input.kind === "data") {
    if (!input.base64) {
      report(`${input.name} is a data URL without ;base64 encoding; only base64 data URLs are supported`);
      return undefined;
    }
    const payload = input.payload.replace(/\s+/g, "");
    const estimated = Math.floor((payload.length * 3) / 4);
    if (estimated > limits.maxBytes + 2) return void tooLarge(input.name, estimated);
    if (payload === "" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(payload)) {
      report(`${input.name} is a data URL whose content is not valid base64`);
      return undefined;
    }
    const bytes = Buffer.from(payload, "base64");
    if (bytes.byteLength > limits.maxBytes) return void tooLarge(input.name, bytes.byteLength);
    return { bytes, name: input.name };
  }

  const { path, name } = input;
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      report(`${name} is a folder, not an image file`);
      return undefined;
    }
    if (!info.isFile()) {
      report(`${name} is not a regular file`);
      return undefined;
    }
    size = info.size;
  } catch (error) {
    report(describeFsError(name, error));
    return undefined;
  }
  if (size > limits.maxBytes) return void tooLarge(name, size);
  if (size === 0) {
    report(`${name} is empty`);
    return undefined;
  }
  try {
    const bytes = await readFile(path, signal ? { signal } : {});
    // The file may have grown since stat().
    if (bytes.byteLength > limits.maxBytes) return void tooLarge(name, bytes.byteLength);
    return { bytes, name };
  } catch (error) {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    report(describeFsError(name, error));
    return undefined;
  }
}

function describeFsError(name: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT" || code === "ENOTDIR") return `${name} does not exist`;
  if (code === "EACCES" || code === "EPERM") return `${name} cannot be read (permission denied)`;
  if (code === "EISDIR") return `${name} is a folder, not an image file`;
  return `${name} cannot be read${typeof code === "string" ? ` (${code})` : ""}`;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}
