/**
 * One batch job: its zod schema (built on the generic generation request), the validated job with its source
 * location, and the content hash the journal uses to notice that a job changed between runs. Pure; no I/O.
 */
import { hash } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { PROVIDER_NAMES, type ProviderName } from "../errors.js";
import { type GenerationRequest, generationRequestSchema } from "../providers/request.js";
import type { TaskKind } from "../providers/types.js";

/** Longest prompt a batch job may carry, in characters. Models may allow less (checked by `validateJob`). */
export const MAX_PROMPT_LENGTH = 800;

const request = generationRequestSchema.shape;

/** The fields a job may set, one schema each; the job schema and the `defaults` schema are built from these. */
const jobFields = {
  kind: request.kind,
  prompt: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(MAX_PROMPT_LENGTH, {
      error: (issue) =>
        `is ${typeof issue.input === "string" ? issue.input.length : "too many"} characters long; at most ${MAX_PROMPT_LENGTH} are allowed`,
    }),
  model: request.model,
  /** Local paths (relative to the batch file's folder), http(s) URLs or data URLs. */
  images: z.array(z.string().trim().min(1, "must not be empty")).optional(),
  count: request.count,
  ratio: request.ratio,
  resolution: request.resolution,
  size: request.size,
  seed: request.seed,
  negative: request.negative,
  strength: request.strength,
  duration: request.duration,
  /** Output file name template, e.g. `{id}-{index}`. */
  name: z.string().min(1, "must not be empty").optional(),
  provider: z.enum(PROVIDER_NAMES).optional(),
};

const jobId = z.union([z.string(), z.number().int().nonnegative().transform(String)]).pipe(
  z
    .string()
    .min(1, "must not be empty")
    .max(128, "must be at most 128 characters")
    .regex(/^[^/\\\p{Cc}]+$/u, "must not contain slashes or control characters"),
);

/** One job as written in a batch file (after `defaults` are merged under it). Unknown fields are errors. */
export const batchJobSchema = z.strictObject({ id: jobId.optional(), ...jobFields });

/** The `defaults` object of a `.json` batch file: any job field except `id`, all optional. */
export const batchDefaultsSchema = z.strictObject(jobFields).partial();

export type BatchJobInput = z.input<typeof batchJobSchema>;
export type BatchDefaults = z.input<typeof batchDefaultsSchema>;
type ParsedJob = z.output<typeof batchJobSchema>;

/** Every field name a job may carry, for unknown-field checks and suggestions. */
export const JOB_FIELDS: readonly string[] = Object.keys(batchJobSchema.shape);

export interface SourceLocation {
  /** The batch file as the caller named it. */
  file: string;
  /** 1-based line: the job's line (`.jsonl`, `.txt`) or the line where its object starts (`.json`). */
  line: number;
}

/** A validated job, ready to submit. */
export interface BatchJob {
  /** As written, or `line-<n>` when the job has none. */
  id: string;
  kind: TaskKind;
  prompt: string;
  model?: string;
  /** Local paths made absolute (resolved against the batch file's folder); URLs and data URLs unchanged. */
  images?: string[];
  count?: number;
  ratio?: string;
  resolution?: string;
  size?: string;
  seed?: number;
  negative?: string;
  strength?: number;
  duration?: number;
  name?: string;
  provider?: ProviderName;
  source: SourceLocation;
  /** Content hash of what the job asks for (everything but `id`, `name` and `source`); see `jobHash`. */
  hash: string;
}

/** True for references that are not local paths: http(s) URLs and data URLs. */
export function isRemoteImage(reference: string): boolean {
  return /^(https?:|data:)/i.test(reference);
}

/** A local image path resolved against the batch file's folder; URLs and absolute paths are kept. */
export function resolveImage(reference: string, batchFile: string): string {
  if (isRemoteImage(reference)) return reference;
  return path.resolve(path.dirname(batchFile), reference);
}

/**
 * The content hash of a normalised job: sha256 (first 16 hex digits) of the stable JSON of everything the
 * job asks the provider for. `id` and `name` (output naming) are left out, so renaming a job or its files
 * never makes a resumed run pay for it again; image references are hashed as written, so moving the whole
 * folder does not either.
 */
export function jobHash(job: Omit<ParsedJob, "id" | "name">): string {
  // Members in sorted key order, so plain JSON.stringify is already stable (and `undefined` members vanish).
  const content = {
    count: job.count,
    duration: job.duration,
    images: job.images,
    kind: job.kind,
    model: job.model,
    negative: job.negative,
    prompt: job.prompt,
    provider: job.provider,
    ratio: job.ratio,
    resolution: job.resolution,
    seed: job.seed,
    size: job.size,
    strength: job.strength,
  };
  return hash("sha256", JSON.stringify(content), "hex").slice(0, 16);
}

/** Builds the validated job from its parsed fields. */
export function toBatchJob(parsed: ParsedJob, source: SourceLocation): BatchJob {
  const { id, images, ...rest } = parsed;
  const job: BatchJob = {
    id: id ?? `line-${source.line}`,
    ...dropUndefined(rest),
    source,
    hash: jobHash(parsed),
  };
  if (images !== undefined) job.images = images.map((image) => resolveImage(image, source.file));
  return job;
}

function dropUndefined<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

/** The generation request a job stands for (what `Jimeng.submit` takes): the job minus id, name, provider, source and hash. */
export function toGenerationRequest(job: BatchJob): GenerationRequest {
  const { id: _id, name: _name, provider: _provider, source: _source, hash: _hash, ...request } = job;
  return request;
}

/** The known name closest to `word` (edit distance), when it is close enough to be a likely typo. */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** "unknown field" with a suggestion when the name looks like a typo of a known one. */
export function unknownFieldMessage(field: string, known: readonly string[]): string {
  const suggestion = closestName(field, known);
  return suggestion === undefined
    ? `unknown field (known fields: ${known.join(", ")})`
    : `unknown field; did you mean "${suggestion}"?`;
}
