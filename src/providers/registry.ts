/**
 * Every provider by name: its catalog of capability records and its translation of a checked request into
 * its native request, each loaded only when asked for. Registering a provider is one entry here (and one in
 * `createProvider`); everything above reads models and translations through this table.
 */
import type { ProviderName } from "../errors.js";
import type { ModelCapability, ProviderRequest } from "./types.js";

export interface ProviderEntry {
  models: readonly ModelCapability[];
  /** The native request of a request that passed the model rules; throws ValidationError when it cannot be. */
  toNativeRequest(request: ProviderRequest): unknown;
}

export const PROVIDERS: Record<ProviderName, () => Promise<ProviderEntry>> = {
  visual: async () => {
    const [{ VISUAL_MODELS }, { toVisualNativeRequest }] = await Promise.all([
      import("./visual/catalog.js"),
      import("./visual/native.js"),
    ]);
    return { models: VISUAL_MODELS, toNativeRequest: toVisualNativeRequest };
  },
  ark: async () => {
    const [{ ARK_MODELS }, { toNativeRequest }] = await Promise.all([
      import("./ark/catalog.js"),
      import("./ark/native.js"),
    ]);
    return { models: ARK_MODELS, toNativeRequest };
  },
  session: async () => {
    const [{ SESSION_MODELS }, { toSessionNativeRequest }] = await Promise.all([
      import("./session/catalog.js"),
      import("./session/native.js"),
    ]);
    return { models: SESSION_MODELS, toNativeRequest: toSessionNativeRequest };
  },
};

/** The capability records of `provider`. */
export async function modelsOf(provider: ProviderName): Promise<readonly ModelCapability[]> {
  return (await PROVIDERS[provider]()).models;
}
