/**
 * The generation flags, declared once: each flag's commander syntax, help text, value parser, and the generic
 * option it sets (`GenericOption`, the vocabulary the model registries use to say what each model accepts).
 * From this one table come the commander options of `generate`, `compose`, `video`, `submit` (and `batch`),
 * the mapping from parsed flags to a `GenerationRequest`, the "model X does not accept --flag" check, and the
 * README's options table (`renderOptionsTable`, checked against the registries by a test).
 *
 * This module is imported by the command table, so it stays light: no zod, undici, conf or ora here.
 */
import { ValidationError, type ValidationIssue } from "../errors.js";
import type { GenerationRequest } from "../providers/request.js";
import { checkImageCount, unacceptedOptions } from "../providers/rules.js";
import type { GenericOption, ModelCapability, TaskKind } from "../providers/types.js";
import type { OptionSpec } from "./command-types.js";
import { durationMs, parseDuration } from "./duration.js";

export const DEFAULT_OUT_DIR = "./jimeng-output";
export const DEFAULT_NAME = "{date}-{slug}-{index}";

/** A generation flag: an OptionSpec plus what it means for a request. */
export interface GenerationFlag extends OptionSpec {
  /** The commander attribute it lands in (`options[key]`). */
  key: string;
  /** The flag as a user types it, for messages: `--duration`. */
  name: string;
  /** The generic option it sets, when it is one a model may or may not accept. */
  option?: GenericOption;
  /** What the README table shows as accepted values. */
  values: string;
  /** Where the flag belongs: request flags go to every generation command, output flags only to waiting ones. */
  group: "model" | "request" | "input" | "output" | "connection";
  /**
   * The commands with a model that accepts the flag, when not all of them (a test checks this against the
   * registries). Elsewhere the flag is left out of `--help`, but still parsed, so that the model check can
   * say which model does not take it.
   */
  kinds?: readonly TaskKind[];
}

function issue(flag: string, message: string): never {
  throw new ValidationError([{ path: flag, message }]);
}

function integer(flag: string, min: number, max: number) {
  return (value: string): number => {
    const text = value.trim();
    const n = Number(text);
    if (text === "" || !Number.isInteger(n) || n < min || n > max) {
      issue(flag, `"${value}" is not a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function share(flag: string) {
  return (value: string): number => {
    const text = value.trim();
    const n = Number(text);
    if (text === "" || !Number.isFinite(n) || n < 0 || n > 1) {
      issue(flag, `"${value}" is not a number between 0 and 1`);
    }
    return n;
  };
}

function matching(flag: string, pattern: RegExp, example: string) {
  return (value: string): string => {
    const text = value.trim();
    if (!pattern.test(text)) issue(flag, `"${value}" must look like ${example}`);
    return text;
  };
}

function nonEmpty(flag: string) {
  return (value: string): string => {
    if (value.trim() === "") issue(flag, "must not be empty");
    return value;
  };
}

/** `--duration 5`, `--duration 5s`, `--duration 1.5m`: seconds. */
function seconds(value: string): number {
  const ms = durationMs(value);
  if (ms === undefined) issue("--duration", `"${value}" is not a length; use seconds, e.g. 5 or 10s`);
  return ms / 1000;
}

/** Repeatable `--image`: every value, in order. */
function collect(value: string, previous?: unknown): string[] {
  if (value.trim() === "") issue("--image", "must not be empty");
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}

/** Every generation flag, in help order. */
export const GENERATION_FLAGS: readonly GenerationFlag[] = [
  {
    flags: "-m, --model <name>",
    key: "model",
    name: "--model",
    description: "model id or alias (see `jimeng models`); default: the provider's default for the command",
    values: "an id or alias",
    group: "model",
    parse: nonEmpty("--model"),
  },
  {
    flags: "--ratio <w:h>",
    key: "ratio",
    name: "--ratio",
    option: "ratio",
    description: "aspect ratio, e.g. 16:9",
    values: "`1:1`, `16:9`, …",
    group: "request",
    parse: matching("--ratio", /^\d+:\d+$/, "16:9"),
  },
  {
    flags: "--resolution <res>",
    key: "resolution",
    name: "--resolution",
    option: "resolution",
    description: "1k, 2k or 4k (images), 720p or 1080p (video)",
    values: "`1k` `2k` `4k` / `720p` `1080p`",
    group: "request",
    parse: matching("--resolution", /^\d+(k|p)$/i, "2k or 1080p"),
  },
  {
    flags: "--size <WxH>",
    key: "size",
    kinds: ["generate", "compose"],
    name: "--size",
    option: "size",
    description: "exact output size in pixels, e.g. 2048x2048",
    values: "`2048x2048`",
    group: "request",
    parse: matching("--size", /^\d+x\d+$/, "2048x2048"),
  },
  {
    flags: "-n, --count <n>",
    key: "count",
    kinds: ["generate", "compose"],
    name: "--count",
    option: "count",
    description:
      "how many outputs to keep (Jimeng 4.x on the Visual API: 1 forces one image, more lets the model decide)",
    values: "1–15",
    group: "request",
    parse: integer("--count", 1, 15),
  },
  {
    flags: "--seed <n>",
    key: "seed",
    name: "--seed",
    option: "seed",
    description: "random seed (-1: random)",
    values: "-1–4294967295",
    group: "request",
    parse: integer("--seed", -1, 4294967295),
  },
  {
    flags: "--negative <text>",
    key: "negative",
    kinds: ["generate", "compose"],
    name: "--negative",
    option: "negative",
    description: "what the output should not contain",
    values: "text",
    group: "request",
    parse: nonEmpty("--negative"),
  },
  {
    flags: "--strength <0..1>",
    key: "strength",
    kinds: ["generate", "compose"],
    name: "--strength",
    option: "strength",
    description: "how strongly the prompt (vs the reference images) shapes the output",
    values: "0–1",
    group: "request",
    parse: share("--strength"),
  },
  {
    flags: "--duration <s>",
    key: "duration",
    kinds: ["video"],
    name: "--duration",
    option: "duration",
    description: "video length in seconds, e.g. 5 or 10s",
    values: "seconds",
    group: "request",
    parse: seconds,
  },
  {
    flags: "--no-watermark",
    key: "watermark",
    kinds: ["generate"],
    name: "--no-watermark",
    option: "watermark",
    description: "ask for outputs without the visible watermark (where the model supports it)",
    values: "—",
    group: "request",
  },
  {
    flags: "--image <path|url>",
    key: "image",
    name: "--image",
    description:
      "reference image: a local file, an http(s) URL or a data URL (repeatable; video: first, then last frame)",
    values: "path, URL",
    group: "input",
    parse: collect,
  },
  {
    flags: "--prompt-file <path>",
    key: "promptFile",
    name: "--prompt-file",
    description: "read the prompt from a file (- for stdin) instead of the command line",
    values: "a path, `-`",
    group: "input",
    parse: nonEmpty("--prompt-file"),
  },
  {
    flags: "-o, --out <dir>",
    key: "out",
    name: "--out",
    description: `where to save the outputs (default: ${DEFAULT_OUT_DIR}, or the config's outDir)`,
    values: "a folder",
    group: "output",
  },
  {
    flags: "--name <template>",
    key: "name",
    name: "--name",
    description: `file name template: {id} {index} {slug} {date} {model} {task} (default: ${DEFAULT_NAME})`,
    values: "a template",
    group: "output",
    parse: nonEmpty("--name"),
  },
  {
    flags: "--no-download",
    key: "download",
    name: "--no-download",
    description: "do not save the outputs; print their URLs",
    values: "—",
    group: "output",
  },
  {
    flags: "--timeout <duration>",
    key: "timeout",
    name: "--timeout",
    description:
      "give up waiting after this long, e.g. 90s or 5m (the task keeps running; resume with `jimeng result`)",
    values: "`90s`, `5m`, …",
    group: "output",
    parse: (value) => parseDuration(value, "--timeout"),
  },
  {
    flags: "--endpoint <url>",
    key: "endpoint",
    name: "--endpoint",
    description: "the chosen provider's endpoint (default: from the environment or the config)",
    values: "a URL",
    group: "connection",
  },
  {
    flags: "--region <region>",
    key: "region",
    name: "--region",
    description: "Volcengine region for the Visual API (default cn-north-1)",
    values: "`cn-north-1`",
    group: "connection",
  },
];

/** The options of a command that submits and waits (generate, compose, video). */
export const WAITING_COMMAND_OPTIONS: readonly OptionSpec[] = GENERATION_FLAGS;

/** The options of `generate`, `compose` or `video`: flags no model of the kind accepts are hidden from help. */
export function waitingCommandOptions(kind: TaskKind): readonly OptionSpec[] {
  return GENERATION_FLAGS.map((flag) =>
    flag.kinds === undefined || flag.kinds.includes(kind) ? flag : { ...flag, hidden: true },
  );
}

/** The options of `jimeng submit` (no output options: it returns at once). */
export const SUBMIT_COMMAND_OPTIONS: readonly OptionSpec[] = GENERATION_FLAGS.filter(
  (flag) => flag.group !== "output",
);

/** The options `batch` can reuse for job defaults (model and request flags). */
export const REQUEST_FLAGS: readonly GenerationFlag[] = GENERATION_FLAGS.filter(
  (flag) => flag.group === "model" || flag.group === "request",
);

const FLAG_BY_OPTION = new Map<string, GenerationFlag>(
  GENERATION_FLAGS.filter((flag) => flag.option !== undefined).map((flag) => [flag.option as string, flag]),
);

/** The flag a user types for a request field (`duration` → `--duration`, `images.0` → `--image`). */
export function flagForField(path: string): string | undefined {
  const head = path.split(".")[0] ?? "";
  if (head === "images") return "--image";
  if (head === "model") return "--model";
  if (head === "name") return "--name";
  return FLAG_BY_OPTION.get(head)?.name;
}

/** Request flags as commander parsed them. */
export type ParsedFlags = Readonly<Record<string, unknown>>;

/**
 * Pure: the GenerationRequest the flags ask for. `watermark` is only set by `--no-watermark` (commander's
 * default `true` means "not given").
 */
export function requestFromFlags(kind: TaskKind, prompt: string, flags: ParsedFlags): GenerationRequest {
  const request: GenerationRequest = { kind, prompt };
  if (typeof flags.model === "string") request.model = flags.model;
  if (Array.isArray(flags.image) && flags.image.length > 0) request.images = [...(flags.image as string[])];
  for (const flag of GENERATION_FLAGS) {
    if (flag.option === undefined || flag.option === "watermark") continue;
    const value = flags[flag.key];
    if (value !== undefined) (request as Record<string, unknown>)[flag.option] = value;
  }
  if (flags.watermark === false) request.watermark = false;
  return request;
}

/**
 * Pure: one issue per flag that `model` does not accept, naming the flag as typed and the model, listing the
 * flags it does accept (the model rules of src/providers/rules.ts, in flag names). Empty when every flag fits.
 */
export function unacceptedFlags(request: GenerationRequest, model: ModelCapability): ValidationIssue[] {
  const issues = unacceptedOptions(request, model, (option) => FLAG_BY_OPTION.get(option)?.name ?? option);
  if ((request.images?.length ?? 0) > 0) {
    for (const item of checkImageCount(request.images?.length ?? 0, model, "generate")) {
      issues.push({ path: "--image", message: item.message });
    }
  }
  return issues;
}

/**
 * A ValidationError from the SDK with its field paths turned into the flags a user typed (`ratio` → `--ratio`),
 * so the message names what to change on the command line. Other errors are returned unchanged.
 */
/** Pure: the warning for `-n` on a model that decides its own count, else undefined. */
export function countWarning(
  request: { count?: number | undefined },
  model: ModelCapability,
): string | undefined {
  if (model.countMode !== "single-or-set" || request.count === undefined || request.count === 1)
    return undefined;
  return `-n ${request.count}: ${model.id} decides how many images it makes (-n 1 forces one; more lets it make a set, which the prompt drives), so you may get fewer or more than ${request.count}`;
}

export function withFlagNames(error: unknown): unknown {
  if (!(error instanceof ValidationError)) return error;
  let changed = false;
  const issues = error.issues.map((item) => {
    const flag = flagForField(item.path);
    if (!flag || item.path.startsWith("--")) return item;
    changed = true;
    const rest = item.path.includes(".") ? ` ${item.path.slice(item.path.indexOf(".") + 1)}` : "";
    return { path: `${flag}${rest}`, message: item.message };
  });
  if (!changed) return error;
  return new ValidationError(issues, error.hint ? { hint: error.hint } : {});
}

// ------------------------------------------------------------------------------------------ README table

function accepting(flag: GenerationFlag, models: readonly ModelCapability[]): string {
  if (models.length === 0) return "—";
  const fits = (model: ModelCapability): boolean => {
    if (flag.option !== undefined) return model.options.includes(flag.option);
    if (flag.key === "image") return model.images !== null;
    return true;
  };
  const yes = models.filter(fits);
  if (yes.length === models.length) return "all";
  if (yes.length === 0) return "—";
  return yes.map((model) => `\`${model.id}\``).join(", ");
}

/**
 * The README's generation options table, rendered from the flag declarations and the model registries: which
 * flag sets what, and which models of each provider accept it. A test compares README.md with this.
 */
export function renderOptionsTable(models: readonly ModelCapability[]): string {
  const visual = models.filter((model) => model.provider === "visual");
  const session = models.filter((model) => model.provider === "session");
  const ark = models.filter((model) => model.provider === "ark");
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = GENERATION_FLAGS.map(
    (flag) =>
      `| \`${cell(flag.flags)}\` | ${cell(flag.description)} | ${cell(flag.values)} | ${accepting(flag, visual)} | ${accepting(flag, session)} | ${accepting(flag, ark)} |`,
  );
  return [
    "| flag | what it does | values | visual models | session models | ark models |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
