/**
 * The MCP tools' input schemas, derived from the model capability records (what each model accepts, its
 * ratios, resolutions, durations and image limits) and the CLI's flag declarations (each option's wording),
 * so that a model's options are declared once for the CLI, batch files and agents alike. Pure.
 */
import { z } from "zod";
import { GENERATION_FLAGS } from "../cli/generation-options.js";
import {
  GENERIC_OPTIONS,
  type GenericOption,
  type ModelCapability,
  type TaskKind,
} from "../providers/types.js";

export const TASK_KINDS: readonly TaskKind[] = ["generate", "compose", "video"];

/** Models that serve `kind`. */
export function modelsFor(models: readonly ModelCapability[], kind: TaskKind): ModelCapability[] {
  return models.filter((model) => model.kinds.includes(kind));
}

/** Every id and alias a model can be named by, in registry order, without repeats. */
export function modelNames(models: readonly ModelCapability[]): string[] {
  return [...new Set(models.flatMap((model) => [model.id, ...model.aliases]))];
}

/** The options at least one of `models` accepts, in the vocabulary's order. */
export function acceptedOptions(models: readonly ModelCapability[]): GenericOption[] {
  return GENERIC_OPTIONS.filter((option) => models.some((model) => model.options.includes(option)));
}

function union<T>(lists: readonly (readonly T[] | undefined)[]): T[] {
  return [...new Set(lists.flatMap((list) => list ?? []))];
}

function describeFlag(key: string): string {
  return GENERATION_FLAGS.find((flag) => flag.key === key)?.description ?? key;
}

function acceptedBy(models: readonly ModelCapability[], option: GenericOption): string {
  const ids = models.filter((model) => model.options.includes(option)).map((model) => model.id);
  return ids.length === models.length ? "every model" : ids.join(", ");
}

function durationRange(models: readonly ModelCapability[]): { min: number; max: number } | undefined {
  const bounds = models.flatMap((model) => {
    const durations = model.durations;
    if (durations === undefined || !model.options.includes("duration")) return [];
    return "min" in durations ? [durations.min, durations.max] : [...durations];
  });
  if (bounds.length === 0) return undefined;
  return { min: Math.min(...bounds), max: Math.max(...bounds) };
}

/** The schema of one generic option over `models` (values from their capability records). */
function optionSchema(option: GenericOption, models: readonly ModelCapability[]): z.ZodType {
  const accepting = models.filter((model) => model.options.includes(option));
  const by = `Accepted by: ${acceptedBy(models, option)}.`;
  switch (option) {
    case "ratio": {
      const ratios = union(accepting.map((model) => model.ratios));
      const base = ratios.length
        ? z.enum(ratios as [string, ...string[]])
        : z.string().regex(/^\d+:\d+$/, "must look like 16:9");
      return base.describe(`${describeFlag("ratio")}. ${by}`);
    }
    case "resolution": {
      const resolutions = union(accepting.map((model) => model.resolutions));
      const base = resolutions.length ? z.enum(resolutions as [string, ...string[]]) : z.string().min(1);
      return base.describe(`${describeFlag("resolution")}. ${by}`);
    }
    case "size":
      return z
        .string()
        .regex(/^\d+x\d+$/, "must look like 2048x2048")
        .describe(`${describeFlag("size")}. ${by}`);
    case "count":
      return z
        .number()
        .int()
        .min(1)
        .max(15)
        .describe(`${describeFlag("count")} (1–15). ${by}`);
    case "seed":
      return z
        .number()
        .int()
        .min(-1)
        .max(4294967295)
        .describe(`${describeFlag("seed")}. ${by}`);
    case "negative":
      return z
        .string()
        .min(1)
        .describe(`${describeFlag("negative")}. ${by}`);
    case "strength":
      return z
        .number()
        .min(0)
        .max(1)
        .describe(`${describeFlag("strength")} (0–1). ${by}`);
    case "duration": {
      const range = durationRange(accepting);
      const base = range ? z.number().min(range.min).max(range.max) : z.number().positive();
      return base.describe(
        `video length in seconds (a number). ${by} Each model's lengths: see the models tool.`,
      );
    }
    case "watermark":
      return z
        .boolean()
        .describe(
          `false asks for outputs without the visible watermark (where the model supports it). ${by}`,
        );
  }
}

export interface FieldOptions {
  /** Reference images are required (compose). */
  imagesRequired?: boolean;
  /** Appended to the images field's description (where local files may come from). */
  imagesNote?: string;
}

/**
 * The request fields for jobs served by `models`: prompt, model (an enum of their ids and aliases), each
 * option at least one of them accepts, and reference images when any takes them.
 */
export function requestShape(
  models: readonly ModelCapability[],
  options: FieldOptions = {},
): Record<string, z.ZodType> {
  const maxPrompt = Math.max(...models.map((model) => model.maxPromptLength));
  const defaults = models.filter((model) => model.defaultFor?.length).map((model) => model.id);
  const shape: Record<string, z.ZodType> = {
    prompt: z.string().trim().min(1).max(maxPrompt).describe("what to make, in words"),
    model: z
      .enum(modelNames(models) as [string, ...string[]])
      .optional()
      .describe(
        `model id or alias (the models tool lists what each accepts)${defaults.length ? `; default: ${defaults.join(" / ")}` : ""}`,
      ),
  };
  for (const option of acceptedOptions(models)) shape[option] = optionSchema(option, models).optional();
  const imageModels = models.filter((model) => model.images !== null);
  if (imageModels.length > 0) {
    const max = Math.max(...imageModels.map((model) => model.images?.max ?? 0));
    const list = z
      .array(z.string().min(1, "must not be empty"))
      .min(options.imagesRequired ? 1 : 0)
      .max(max);
    const text = `${describeFlag("image")}${options.imagesNote ? `. ${options.imagesNote}` : ""}`;
    shape.images = (options.imagesRequired ? list : list.optional()).describe(text);
  }
  return shape;
}

/** Fields of the tools that wait and save files. */
export function outputShape(): Record<string, z.ZodType> {
  return {
    name: z.string().min(1).optional().describe(describeFlag("name")),
    timeoutSeconds: z
      .number()
      .positive()
      .optional()
      .describe(
        "stop waiting after this many seconds (the task keeps running; pick it up with the result tool)",
      ),
  };
}
