/**
 * `jimeng models`: every model of each provider with what it accepts, straight from the capability registries
 * (the one place models are declared). A table, or `{ "models": [capability, ...] }` with `--json`.
 */
import { PROVIDER_NAMES, type ProviderName } from "../../errors.js";
import type { ModelCapability, TaskKind } from "../../providers/types.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { EXIT } from "../exit-codes.js";

export async function loadModels(providers: readonly ProviderName[]): Promise<ModelCapability[]> {
  const { modelsOf } = await import("../../providers/registry.js");
  const lists = await Promise.all(providers.map(modelsOf));
  return lists.flat();
}

function durations(model: ModelCapability): string {
  const value = model.durations;
  if (value === undefined) return "";
  if (Array.isArray(value)) return `${value.join("/")}s`;
  const range = value as { min: number; max: number };
  return `${range.min}–${range.max}s`;
}

function images(model: ModelCapability): string {
  if (!model.images) return "";
  const { min, max, roles } = model.images;
  const count = min === max ? `${max}` : `${min}–${max}`;
  return roles?.length ? `${count} (${roles.join(", ")})` : count;
}

/** The flags a model accepts besides --model, -o and the other flags every model takes. */
function accepts(model: ModelCapability): string {
  const flags = model.options.map((option) =>
    option === "count" ? "-n" : option === "watermark" ? "--no-watermark" : `--${option}`,
  );
  if (model.images) flags.push("--image");
  return flags.join(" ");
}

/** Pure: the human table of `models`, one section per provider. */
export function modelsTable(models: readonly ModelCapability[]): string {
  const header = ["MODEL", "KINDS", "ACCEPTS", "RATIOS", "RESOLUTIONS", "DURATIONS", "IMAGES", "ALIASES"];
  const sections: string[] = [];
  for (const provider of PROVIDER_NAMES) {
    const rows = models
      .filter((model) => model.provider === provider)
      .map((model) => [
        model.defaultFor?.length ? `${model.id} *` : model.id,
        model.kinds.join(","),
        accepts(model),
        (model.ratios ?? []).join(","),
        (model.resolutions ?? []).join(","),
        durations(model),
        images(model),
        model.aliases.join(", "),
      ]);
    if (rows.length === 0) continue;
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, column) => cell.padEnd(widths[column] as number))
        .join("  ")
        .trimEnd();
    sections.push([`${provider} provider`, line(header), ...rows.map(line)].join("\n"));
  }
  if (sections.length === 0) return "no models\n";
  return `${sections.join("\n\n")}\n\n* the default for its kinds\n`;
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const kind = call.options.kind as TaskKind | undefined;
  const providers: ProviderName[] = context.globals.provider
    ? [context.globals.provider]
    : [...PROVIDER_NAMES];
  const models = (await loadModels(providers)).filter((model) => !kind || model.kinds.includes(kind));
  context.output.result({ models }, () => modelsTable(models));
  return EXIT.ok;
}
