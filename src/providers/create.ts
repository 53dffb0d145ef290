import { ArkProvider, type ArkProviderOptions } from "./ark/provider.js";
import { SessionProvider, type SessionProviderOptions } from "./session/provider.js";
import type { Provider } from "./types.js";
import { VisualProvider, type VisualProviderOptions } from "./visual/provider.js";

/** Any provider's options, tagged with its name: what a config file or the CLI settings resolve to. */
export type ProviderOptions =
  | ({ provider: "visual" } & VisualProviderOptions)
  | ({ provider: "session" } & Exclude<SessionProviderOptions, { client: unknown }>)
  | ({ provider: "ark" } & ArkProviderOptions);

/** The provider named by `options.provider`, ready for `new Jimeng({ provider })`. */
export function createProvider(options: ProviderOptions): Provider {
  if (options.provider === "visual") {
    const { provider: _name, ...visual } = options;
    return new VisualProvider(visual);
  }
  if (options.provider === "ark") {
    const { provider: _name, ...ark } = options;
    return new ArkProvider(ark);
  }
  const { provider: _name, ...session } = options;
  return new SessionProvider(session);
}
