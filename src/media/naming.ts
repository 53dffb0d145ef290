/**
 * File names for downloaded outputs, as pure functions: a template such as `{date}-{slug}-{index}` rendered
 * from the task's facts, then made safe as ONE path segment. Whatever the prompt or the template contains
 * (separators, `..`, NUL, control characters, Windows device names, 10 000 characters), the result is a
 * plain file name that stays inside the target folder. No I/O.
 */
import { ValidationError } from "../errors.js";

export const DEFAULT_NAME_TEMPLATE = "{date}-{slug}-{index}";
export const NAME_PLACEHOLDERS = ["id", "index", "slug", "date", "model", "task"] as const;
export type NamePlaceholder = (typeof NAME_PLACEHOLDERS)[number];

/** Longest slug, in characters (code points). */
export const MAX_SLUG_LENGTH = 60;
/** Longest rendered name without extension, in characters; also capped at MAX_NAME_BYTES of UTF-8. */
export const MAX_NAME_LENGTH = 150;
/** Leaves room under the usual 255-byte limit for an extension, a `-N` suffix and the temp-file affixes. */
export const MAX_NAME_BYTES = 200;

export interface NameContext {
  prompt: string;
  model: string;
  taskId: string;
  /** A caller's own id (a batch job id); `{id}` falls back to the task id. */
  id?: string;
  /** 0-based position of the output; `{index}` renders it 1-based. */
  index: number;
  /** When the output was made; `{date}` renders it as local YYYYMMDD. */
  date: Date;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const FALLBACK_NAME = "output";
const FALLBACK_SLUG = "untitled";
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/** Throws ValidationError (path `name`) when the template uses a placeholder we do not know, or is empty. */
export function checkNameTemplate(template: string): void {
  if (template.trim() === "") {
    throw new ValidationError([{ path: "name", message: "the file name template is empty" }]);
  }
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? "")
    .filter((name) => !(NAME_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    const list = [...new Set(unknown)].map((name) => `{${name}}`).join(", ");
    throw new ValidationError([
      {
        path: "name",
        message: `unknown placeholder ${list} in the file name template; use ${NAME_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
      },
    ]);
  }
}

/**
 * The file name (without extension) for one output: `template` (default `{date}-{slug}-{index}`) rendered
 * and sanitised as a single path segment. Throws ValidationError for unknown placeholders.
 */
export function renderName(template: string | undefined, context: NameContext): string {
  const source = template ?? DEFAULT_NAME_TEMPLATE;
  checkNameTemplate(source);
  const values: Record<NamePlaceholder, string> = {
    id: context.id ?? context.taskId,
    index: String(context.index + 1),
    slug: slugify(context.prompt),
    date: formatDate(context.date),
    model: context.model,
    task: context.taskId,
  };
  const rendered = source.replace(PLACEHOLDER, (_, name: string) => values[name as NamePlaceholder]);
  return sanitizeFileName(rendered);
}

/**
 * A short, readable, file-safe form of a prompt: letters and digits of any script (CJK kept), lower-cased,
 * other runs collapsed to `-`, at most MAX_SLUG_LENGTH characters; `untitled` when nothing is left.
 */
export function slugify(text: string, maxLength: number = MAX_SLUG_LENGTH): string {
  const words = text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  const cut = takeCodePoints(words, maxLength).replace(/-+$/, "");
  return cut === "" ? FALLBACK_SLUG : cut;
}

/**
 * `name` as one safe path segment: no separators, no `..`, no control characters or NUL, none of the
 * characters Windows forbids, no leading/trailing dots, spaces or dashes, not a Windows device name, at most
 * `maxLength` characters and MAX_NAME_BYTES bytes of UTF-8; `output` when nothing is left.
 */
export function sanitizeFileName(name: string, maxLength: number = MAX_NAME_LENGTH): string {
  let safe = name
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "")
    .replace(/[/\\<>:"|?*]/g, "-")
    .replace(/\s+/g, " ")
    .replace(/\.{2,}/g, ".")
    .replace(/-{2,}/g, "-");
  safe = trimEdges(safe);
  safe = trimEdges(takeUtf8Bytes(takeCodePoints(safe, maxLength), MAX_NAME_BYTES));
  if (safe === "") return FALLBACK_NAME;
  // `CON`, `nul.txt`, `com1.tar.gz` are devices on Windows whatever follows the first dot.
  const stem = safe.split(".")[0] ?? "";
  if (WINDOWS_RESERVED.test(stem.trim())) safe = `_${safe}`;
  return safe;
}

function trimEdges(text: string): string {
  return text.replace(/^[\s.-]+|[\s.-]+$/g, "");
}

function takeCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join("");
}

function takeUtf8Bytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const point of text) {
    const size = Buffer.byteLength(point, "utf8");
    if (bytes + size > maxBytes) break;
    out += point;
    bytes += size;
  }
  return out;
}

function formatDate(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
}
