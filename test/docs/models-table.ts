/**
 * Renders the README's models table from the three registries (`npm run docs:models` prints it); the README
 * test checks that the table between the `models` markers is exactly this.
 */
import { pathToFileURL } from "node:url";
import { ARK_MODELS } from "../../src/providers/ark/catalog.js";
import { SESSION_MODELS } from "../../src/providers/session/catalog.js";
import type { ModelCapability } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";

function durations(model: ModelCapability): string {
  const d = model.durations;
  if (!d) return "";
  return "min" in d ? `${d.min}–${d.max} s` : `${d.join("/")} s`;
}

function images(model: ModelCapability): string {
  const limits = model.images;
  if (!limits) return "—";
  const count = limits.min === limits.max ? `${limits.max}` : `${limits.min}–${limits.max}`;
  const how = { url: "URLs", "url-or-base64": "URLs or files", "url-or-upload": "URLs or files" }[
    limits.transport
  ];
  return `${count} (${how})`;
}

function row(model: ModelCapability): string {
  const name = model.aliases[0] ? `\`${model.aliases[0]}\`` : "";
  const accepts = [
    model.ratios ? `ratios ${model.ratios.join(" ")}` : "",
    model.resolutions ? `resolutions ${model.resolutions.join(" ")}` : "",
    durations(model) ? `durations ${durations(model)}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  const defaults = model.defaultFor?.length ? ` (default for ${model.defaultFor.join(", ")})` : "";
  return `| ${model.provider} | \`${model.id}\`${defaults} | ${name} | ${model.kinds.join(", ")} | ${model.options.map((o) => (o === "watermark" ? "--no-watermark" : `--${o}`)).join(" ")} | ${accepts} | ${images(model)} |`;
}

export function renderModelsTable(): string {
  return [
    "| provider | model | alias | commands | flags | values | reference images |",
    "|---|---|---|---|---|---|---|",
    ...[...VISUAL_MODELS, ...SESSION_MODELS, ...ARK_MODELS].map(row),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${renderModelsTable()}\n`);
}
