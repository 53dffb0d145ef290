/**
 * What to say about a model name the chosen provider does not know: the provider that serves it and how to
 * pick that one, else the closest name this provider has (a typo such as `jimeng-4.7`).
 */
import { type ProviderName, ValidationError } from "../errors.js";
import { modelsOf } from "../providers/registry.js";
import type { ModelCapability, TaskKind } from "../providers/types.js";
import { closest } from "./config.js";

function names(models: readonly ModelCapability[], kind: TaskKind): string[] {
  return models
    .filter((model) => model.kinds.includes(kind))
    .flatMap((model) => [model.id, ...model.aliases]);
}

function knows(models: readonly ModelCapability[], name: string): ModelCapability | undefined {
  const wanted = name.trim().toLowerCase();
  return models.find(
    (model) =>
      model.id.toLowerCase() === wanted || model.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
}

const HOW_TO_PICK: Record<ProviderName, string> = {
  visual: "add --provider visual (it needs VOLC_ACCESSKEY and VOLC_SECRETKEY)",
  session: "add --provider session (it needs JIMENG_SESSION_ID and a jimeng-api server)",
  ark: "add --provider ark (it needs ARK_API_KEY)",
};

/** `error` (from resolveModel) with a hint, when `name` is a model the provider does not have. */
export async function explainUnknownModel(
  error: unknown,
  name: string | undefined,
  kind: TaskKind,
  provider: { name: ProviderName; models: readonly ModelCapability[] },
): Promise<unknown> {
  if (!(error instanceof ValidationError) || name === undefined || knows(provider.models, name)) return error;
  const otherName: ProviderName = provider.name === "visual" ? "session" : "visual";
  const other = await modelsOf(otherName);
  const elsewhere = knows(other, name);
  const hint = elsewhere
    ? `${name} is a ${otherName} model${elsewhere.id === name ? "" : ` (${elsewhere.id})`}: ${HOW_TO_PICK[otherName]}; \`jimeng models\` lists both providers' models`
    : `did you mean ${closest(name, names(provider.models, kind))}? \`jimeng models --kind ${kind}\` lists them`;
  return new ValidationError(error.issues, { message: error.message, hint });
}
