/**
 * What every provider-backed command does first: read the config store, resolve settings (flag > env >
 * config > default), register the secrets with the output scrubber, start the emulator for `--emulator`,
 * and check the chosen provider's credentials.
 */
import type { EmulatorOptions } from "../emulator/server.js";
import { type ProviderName, ValidationError } from "../errors.js";
import { fileResultStore } from "../providers/ark/results.js";
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
import { arkResultsPath, emulatorStatePath } from "./task-index.js";

export interface PreparedProvider {
  settings: Settings;
  provider: ProviderConfig;
  /** The in-process emulator's base URL with `--emulator`. */
  emulatorUrl?: string;
  /** Stops the emulator, if one was started. Call it when the command ends. */
  close(): Promise<void>;
}

/**
 * The provider a long-running command (`serve`, `worker`) runs tasks on: `--endpoint` / `--region` from its
 * options, and with the emulator, task durations of `emulatorMs` (images) and twice that (videos).
 */
export function prepareServiceProvider(
  context: CommandContext,
  options: Readonly<Record<string, unknown>>,
  emulatorMs: number | undefined,
): Promise<PreparedProvider> {
  const flags: { endpoint?: string; region?: string } = {};
  if (typeof options.endpoint === "string") flags.endpoint = options.endpoint;
  if (typeof options.region === "string") flags.region = options.region;
  return prepareProvider(context, flags, {
    emulator: emulatorMs === undefined ? {} : { durations: { image: emulatorMs, video: emulatorMs * 2 } },
  });
}

/** Throws ConfigError (exit 3) when the chosen provider has no credentials, ValidationError (2) for bad flags. */
export async function prepareProvider(
  context: CommandContext,
  flags: Omit<SettingFlags, "provider" | "emulator"> = {},
  options: {
    offline?: boolean;
    /** The in-process emulator's options; by default its tasks persist beside the config (follow-ups work). */
    emulator?: EmulatorOptions;
  } = {},
): Promise<PreparedProvider> {
  if (context.globals.server !== undefined || context.globals.apiKey !== undefined) {
    // Commands that reach here talk to the provider themselves; a flag they would ignore is an error.
    throw new ValidationError([
      {
        path: context.globals.server !== undefined ? "--server" : "--api-key",
        message:
          "a shared service is used by generate, compose, video, submit, result and mcp; this command talks to the provider itself",
      },
    ]);
  }
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
  if (!settings.emulator) {
    const provider = withResultsFile(
      options.offline ? offlineConfig(settings) : providerConfig(settings),
      context.env,
      false,
    );
    return { settings, provider, close: async () => {} };
  }

  const { startEmulator } = await import("../emulator/server.js");
  const emulator = await startEmulator(options.emulator ?? { stateFile: emulatorStatePath(context.env) });
  try {
    settings = withEmulator(settings, emulator);
    const provider = withResultsFile(providerConfig(settings), context.env, true);
    context.output.verbose(`emulator running on ${emulator.url}`);
    return { settings, provider, emulatorUrl: emulator.url, close: () => emulator.stop() };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

/** Pure: an Ark configuration keeps its synchronous image results beside the task list, for `result <id>`. */
export function withResultsFile(
  config: ProviderConfig,
  env: NodeJS.ProcessEnv,
  emulator: boolean,
): ProviderConfig {
  return config.provider === "ark" ? { ...config, resultsFile: arkResultsPath(env, emulator) } : config;
}

/**
 * For commands that send nothing (`batch --dry-run`): the provider's configuration, with placeholder
 * credentials when none are configured, so that files can be checked against the model registries in CI
 * without secrets.
 */
function offlineConfig(settings: Settings): ProviderConfig {
  try {
    return providerConfig(settings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return providerConfig(withPlaceholderCredentials(settings));
  }
}

/** Pure: `settings` with a placeholder for every missing credential (never sent: see offlineConfig). */
export function withPlaceholderCredentials(settings: Settings): Settings {
  const placeholder = { value: "not-configured", source: "default" as const };
  return {
    ...settings,
    provider: settings.provider ?? { value: "visual", source: "auto" },
    accessKeyId: settings.accessKeyId ?? placeholder,
    secretAccessKey: settings.secretAccessKey ?? placeholder,
    sessionId: settings.sessionId ?? placeholder,
    arkApiKey: settings.arkApiKey ?? placeholder,
  };
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
  if (config.provider === "ark") {
    const { provider, apiKey, endpoint, resultsFile } = config;
    return {
      provider,
      apiKey,
      endpoint,
      ...(resultsFile ? { results: fileResultStore(resultsFile) } : {}),
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
/** Another provider's config when its credentials are there too (jobs may name any provider). */
export function providerConfigFor(
  settings: Settings,
  name: ProviderName,
  offline: boolean,
  env: NodeJS.ProcessEnv,
): ProviderConfig | Error {
  try {
    const chosen: Settings = { ...settings, provider: { value: name, source: "flag" } };
    const config = providerConfig(offline ? withPlaceholderCredentials(chosen) : chosen);
    return withResultsFile(config, env, settings.emulator);
  } catch (error) {
    return error as Error;
  }
}
