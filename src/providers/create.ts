import { SessionProvider, type SessionProviderOptions } from "./session/provider.js";
import type { Provider } from "./types.js";
import { VisualProvider, type VisualProviderOptions } from "./visual/provider.js";

/** Either provider's options, tagged with its name: what a config file or the CLI settings resolve to. */
export type ProviderOptions =
  | ({ provider: "visual" } & VisualProviderOptions)
  | ({ provider: "session" } & Exclude<SessionProviderOptions, { client: unknown }>);

/** The provider named by `options.provider`, ready for `new Jimeng({ provider })`. */
export function createProvider(options: ProviderOptions): Provider {
  if (options.provider === "visual") {
    const { provider: _name, ...visual } = options;
    return new VisualProvider(visual);
  }
  const { provider: _name, ...session } = options;
  return new SessionProvider(session);
}
