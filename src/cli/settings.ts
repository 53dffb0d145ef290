/**
 * What every provider-backed command does first: read the config store, resolve settings (flag > env >
 * config > default), register the secrets with the output scrubber, start the emulator for `--emulator`,
 * and check the chosen provider's credentials.
 */
import type { EmulatorOptions } from "../emulator/server.js";
import type { ProviderOptions } from "../providers/create.js";
import type { CommandContext } from "./command-types.js";
import {
  openConfigStore,
  type ProviderConfig,
  providerConfig,
  resolveSettings,
  type SettingFlags,
  type Settings,
  secretsOf,
  withEmulator,
} from "./config.js";
import { durationMs } from "./duration.js";
import { ConfigError } from "./exit-codes.js";

export interface PreparedProvider {
  settings: Settings;
  provider: ProviderConfig;
  /** The in-process emulator's base URL with `--emulator`. */
  emulatorUrl?: string;
  /** Stops the emulator, if one was started. Call it when the command ends. */
  close(): Promise<void>;
}

/** Throws ConfigError (exit 3) when the chosen provider has no credentials, ValidationError (2) for bad flags. */
export async function prepareProvider(
  context: CommandContext,
  flags: Omit<SettingFlags, "provider" | "emulator"> = {},
  emulatorOptions: EmulatorOptions = {},
): Promise<PreparedProvider> {
  const store = openConfigStore(context.env);
  let settings = resolveSettings({
    flags: {
      ...flags,
      ...(context.globals.provider ? { provider: context.globals.provider } : {}),
      emulator: context.globals.emulator,
    },
    env: context.env,
    store: store.read(),
  });
  context.output.secrets.add(...secretsOf(settings));
  if (!settings.emulator) return { settings, provider: providerConfig(settings), close: async () => {} };

  const { startEmulator } = await import("../emulator/server.js");
  const emulator = await startEmulator(emulatorOptions);
  try {
    settings = withEmulator(settings, emulator);
    const provider = providerConfig(settings);
    context.output.verbose(`emulator running on ${emulator.url}`);
    return { settings, provider, emulatorUrl: emulator.url, close: () => emulator.stop() };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

/**
 * Pure: the options `createProvider` (src/providers/create.ts) takes for a checked provider configuration, so
 * every command builds its provider the same way. `timeout` is the deadline of each quick call.
 */
export function providerOptions(config: ProviderConfig, timeout?: number): ProviderOptions {
  const extra = timeout === undefined ? {} : { timeout };
  if (config.provider === "visual") {
    return {
      provider: "visual",
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
      endpoint: config.endpoint,
      region: config.region,
      ...extra,
    };
  }
  return { provider: "session", sessionId: config.sessionIds, endpoint: config.endpoint, ...extra };
}

/**
 * The poll pacing of the CLI: `JIMENG_POLL_INTERVAL` (a duration) caps the wait between two polls; with the
 * in-process emulator, whose tasks take about a second, the cap is 100 ms. Otherwise the SDK's adaptive
 * schedule decides alone (undefined).
 */
export function pollIntervalCap(env: NodeJS.ProcessEnv, emulator: boolean): number | undefined {
  const raw = env.JIMENG_POLL_INTERVAL?.trim();
  if (!raw) return emulator ? 100 : undefined;
  const cap = durationMs(raw);
  if (cap === undefined) {
    throw new ConfigError(`JIMENG_POLL_INTERVAL "${raw}" is not a duration`, {
      hint: "use e.g. 500ms or 2s, or unset JIMENG_POLL_INTERVAL",
    });
  }
  return cap;
}
