/**
 * The CLI's settings: the config store (conf, file mode 0600 in a 0700 folder), the key schema (zod), and the
 * resolver that applies the contract's precedence — flag > environment > config store > default — and picks
 * the provider. The only module that reads credentials from the environment.
 */
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { PROVIDER_NAMES, type ProviderName, ValidationError } from "../errors.js";
import { maskSecret } from "../http/redact.js";
import { isArkModelName } from "../providers/ark/catalog.js";
import { ENV_NAMES, howToSet } from "../setting-names.js";
import { ConfigError } from "./exit-codes.js";

export { PROVIDER_NAMES };

export const DEFAULTS = {
  visualEndpoint: "https://visual.volcengineapi.com",
  region: "cn-north-1",
  sessionEndpoint: "http://127.0.0.1:5100",
  arkEndpoint: "https://ark.cn-beijing.volces.com/api/v3",
  outDir: "./jimeng-output",
} as const;

const text = z.string().trim().min(1, "must not be empty");
const httpUrl = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }));

/** The config store's keys and what each accepts. Types of stored values are inferred from here. */
/** Credentials travel in HTTP headers (or sign them): printable ASCII only, or the request cannot be sent. */
const credential = text.regex(
  /^[\x20-\x7e]+$/,
  "must be printable ASCII (a copy-paste may have brought in other characters; copy the value again)",
);

export const configSchema = z.object({
  accessKeyId: credential,
  secretAccessKey: credential,
  visualEndpoint: httpUrl,
  region: text.regex(/^[a-z0-9-]+$/, "must look like cn-north-1"),
  sessionId: credential,
  sessionEndpoint: httpUrl,
  arkApiKey: credential,
  arkEndpoint: httpUrl,
  provider: z.enum(PROVIDER_NAMES, { message: 'must be "visual", "session" or "ark"' }),
  outDir: text,
});

export type ConfigValues = Partial<z.output<typeof configSchema>>;
export type ConfigKey = keyof z.output<typeof configSchema>;

export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[];

/** Keys whose values are credentials: shown masked (`AKLT…abcd`), never printed whole. */
export const MASKED_KEYS: ReadonlySet<ConfigKey> = new Set([
  "accessKeyId",
  "secretAccessKey",
  "sessionId",
  "arkApiKey",
]);

export const KEY_DESCRIPTIONS: Record<ConfigKey, string> = {
  accessKeyId: "Volcengine access key id (visual provider)",
  secretAccessKey: "Volcengine secret access key (visual provider)",
  visualEndpoint: "Visual API endpoint",
  region: "Volcengine region",
  sessionId: "session id(s), comma-separated (session provider)",
  sessionEndpoint: "session server endpoint",
  arkApiKey: "Volcengine Ark API key (ark provider)",
  arkEndpoint: "Ark endpoint (BytePlus: https://ark.ap-southeast.bytepluses.com/api/v3)",
  provider: "visual, session or ark (default: picked from the model, then the credentials)",
  outDir: "where generated files go",
};

export { ENV_NAMES } from "../setting-names.js";

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The candidate closest to `input` (case-insensitive edit distance). */
export function closest(input: string, candidates: readonly string[]): string {
  const lower = input.toLowerCase();
  let best = candidates[0] as string;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `name` as a config key, or a ValidationError (exit 2) naming the closest key. */
export function parseConfigKey(name: string): ConfigKey {
  if ((CONFIG_KEYS as string[]).includes(name)) return name as ConfigKey;
  const suggestion = closest(name, CONFIG_KEYS);
  throw new ValidationError([{ path: "key", message: `unknown config key "${name}"` }], {
    message: `unknown config key "${name}"; did you mean "${suggestion}"?`,
    hint: `config keys: ${CONFIG_KEYS.join(", ")}`,
  });
}

/** Validates one value for `key` (trimmed, typed), or throws a ValidationError naming the key. */
export function parseConfigValue<K extends ConfigKey>(key: K, value: string): NonNullable<ConfigValues[K]> {
  const result = configSchema.shape[key].safeParse(value);
  if (result.success) return result.data as NonNullable<ConfigValues[K]>;
  throw new ValidationError(result.error.issues.map((issue) => ({ path: key, message: issue.message })));
}

/** How a value is shown: masked for credentials (each of several session ids masked on its own). */
export function displayValue(key: ConfigKey, value: string): string {
  if (!MASKED_KEYS.has(key)) return value;
  return value
    .split(",")
    .map((part) => maskSecret(part.trim()))
    .join(",");
}

// ---------------------------------------------------------------------------------------------------------
// The store

export interface ConfigStore {
  /** The config file's absolute path (it may not exist yet). */
  readonly path: string;
  /** The stored values; unknown keys in the file are ignored. */
  read(): ConfigValues;
  set<K extends ConfigKey>(key: K, value: NonNullable<ConfigValues[K]>): Promise<void>;
  /** Removes `key`; false when it was not set. */
  unset(key: ConfigKey): Promise<boolean>;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const PROJECT = "jimeng";
/** conf's default `projectSuffix`: its folder is `jimeng-nodejs`. */
const PROJECT_FOLDER = `${PROJECT}-nodejs`;

/**
 * The config file's path, exactly as conf computes it (`JIMENG_CONFIG_DIR`, else env-paths' config folder for
 * "jimeng"), without loading conf: reading settings is on every command's path, and conf with its JSON-schema
 * validator costs more to import than everything else the CLI loads. A test checks this against conf.
 */
export function configFilePath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const override = env[ENV_NAMES.configDir]?.trim();
  if (override) return resolve(override, "config.json");
  const home = homedir();
  let folder: string;
  if (platform === "darwin") folder = join(home, "Library", "Preferences", PROJECT_FOLDER);
  else if (platform === "win32") {
    folder = join(env.APPDATA || join(home, "AppData", "Roaming"), PROJECT_FOLDER, "Config");
  } else folder = join(env.XDG_CONFIG_HOME || join(home, ".config"), PROJECT_FOLDER);
  return resolve(folder, "config.json");
}

/** Tightens the config folder to 0700 and the file to 0600 (conf creates the folder with the umask's mode). */
function tightenModes(file: string): void {
  if (process.platform === "win32") return;
  const dir = dirname(file);
  if (existsSync(dir) && (statSync(dir).mode & 0o777) !== DIR_MODE) chmodSync(dir, DIR_MODE);
  if (existsSync(file) && (statSync(file).mode & 0o777) !== FILE_MODE) chmodSync(file, FILE_MODE);
}

function unreadable(path: string, cause: unknown): ConfigError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ConfigError(`cannot read the config file ${path}: ${reason}`, {
    hint: `fix or delete ${path}, then run \`jimeng config list\``,
    cause,
  });
}

/** The stored values, read straight from the file (no conf): {} when there is no file yet. */
export function readConfigFile(path: string): ConfigValues {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw unreadable(path, error);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw unreadable(path, new Error("it does not hold a JSON object"));
  }
  const result = configSchema.partial().safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new ConfigError(`the config file ${path} has an invalid ${key}: ${issue?.message}`, {
      hint: `set it again with \`jimeng config set ${key} <value>\`, or remove it with \`jimeng config unset ${key}\``,
    });
  }
  return result.data;
}

type ConfInstance = InstanceType<typeof import("conf").default<Record<string, unknown>>>;

/** conf, loaded and opened only to write. */
async function openConf(path: string): Promise<ConfInstance> {
  const { default: Conf } = await import("conf");
  try {
    return new Conf<Record<string, unknown>>({
      projectName: PROJECT,
      cwd: dirname(path),
      configFileMode: FILE_MODE,
      accessPropertiesByDotNotation: false,
    });
  } catch (error) {
    throw unreadable(path, error);
  }
}

/**
 * The config store: `JIMENG_CONFIG_DIR` when set, else conf's platform folder for "jimeng". Reads go straight
 * to the file; writes go through conf (atomic writes, mode 0600), after which the folder is tightened to 0700.
 */
export function openConfigStore(env: NodeJS.ProcessEnv): ConfigStore {
  const path = configFilePath(env);
  return {
    path,
    read: () => readConfigFile(path),
    async set(key, value) {
      const conf = await openConf(path);
      conf.set(key, value);
      tightenModes(path);
    },
    async unset(key) {
      const conf = await openConf(path);
      const had = conf.has(key);
      if (had) conf.delete(key);
      tightenModes(path);
      return had;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Resolution: flag > environment > config store > default

export type SettingSource = "flag" | "env" | "config" | "default" | "auto" | "emulator";

export interface Setting<T> {
  value: T;
  source: SettingSource;
}

/** Flags that override settings (generation commands define `--endpoint`, `--region`, `--out`). */
export interface SettingFlags {
  provider?: ProviderName;
  /** The model named on the command line: an Ark model id picks the ark provider when none is explicit. */
  model?: string;
  /** Applies to the endpoint of the chosen provider. */
  endpoint?: string;
  region?: string;
  out?: string;
  emulator?: boolean;
}

export interface Settings {
  /** Explicit (flag, env, config) or picked from the credentials ("auto"); undefined when none is usable. */
  provider?: Setting<ProviderName>;
  accessKeyId?: Setting<string>;
  secretAccessKey?: Setting<string>;
  sessionToken?: Setting<string>;
  visualEndpoint: Setting<string>;
  region: Setting<string>;
  sessionId?: Setting<string>;
  sessionEndpoint: Setting<string>;
  arkApiKey?: Setting<string>;
  arkEndpoint: Setting<string>;
  outDir: Setting<string>;
  /** `--emulator` or `JIMENG_EMULATOR=1`: the command starts the built-in emulator and points at it. */
  emulator: boolean;
  /** `--server` or JIMENG_SERVER_URL: the command uses a shared `jimeng serve` instead of the provider. */
  server?: Setting<string>;
  /** The service's API key came from `--api-key` (follow-up commands cannot carry it). */
  serverKeyTyped?: boolean;
}

export interface SettingsInput {
  flags?: SettingFlags;
  env: NodeJS.ProcessEnv;
  store: ConfigValues;
}

function fromEnv<K extends ConfigKey>(
  env: NodeJS.ProcessEnv,
  key: K,
  envName: string,
): NonNullable<ConfigValues[K]> | undefined {
  const raw = env[envName];
  if (raw === undefined || raw.trim() === "") return undefined;
  const result = configSchema.shape[key].safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`${envName} ${result.error.issues[0]?.message ?? "is invalid"}`, {
      hint: `fix or unset ${envName}`,
    });
  }
  return result.data as NonNullable<ConfigValues[K]>;
}

function fromFlag<K extends ConfigKey>(
  key: K,
  flag: string,
  value: string | undefined,
): NonNullable<ConfigValues[K]> | undefined {
  if (value === undefined) return undefined;
  const result = configSchema.shape[key].safeParse(value);
  if (!result.success) {
    throw new ValidationError(result.error.issues.map((issue) => ({ path: flag, message: issue.message })));
  }
  return result.data as NonNullable<ConfigValues[K]>;
}

function pick<T>(
  flag: T | undefined,
  env: T | undefined,
  store: T | undefined,
  fallback?: T,
): Setting<T> | undefined {
  if (flag !== undefined) return { value: flag, source: "flag" };
  if (env !== undefined) return { value: env, source: "env" };
  if (store !== undefined) return { value: store, source: "config" };
  if (fallback !== undefined) return { value: fallback, source: "default" };
  return undefined;
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** A shared `jimeng serve` the command uses instead of the provider, with the API key it sends. */
export interface ServerTarget {
  url: Setting<string>;
  apiKey?: Setting<string>;
}

function checked(schema: z.ZodType<string>, value: string, name: string, source: "flag" | "env"): string {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? "is invalid";
  if (source === "flag") throw new ValidationError([{ path: name, message }]);
  throw new ConfigError(`${name} ${message}`, { hint: `fix or unset ${name}` });
}

/**
 * `--server <url>` (or JIMENG_SERVER_URL) with `--api-key` (or JIMENG_SERVER_API_KEY); undefined when no
 * service is named. Throws ValidationError (exit 2) for a bad flag, ConfigError (3) for a bad variable.
 */
export function serverTarget(
  flags: { server?: string; apiKey?: string },
  env: NodeJS.ProcessEnv,
): ServerTarget | undefined {
  const pickValue = (
    flag: string | undefined,
    flagName: string,
    envName: string,
    schema: z.ZodType<string>,
  ) => {
    if (flag !== undefined)
      return { value: checked(schema, flag, flagName, "flag"), source: "flag" as const };
    const raw = env[envName];
    if (raw === undefined || raw.trim() === "") return undefined;
    return { value: checked(schema, raw, envName, "env"), source: "env" as const };
  };
  const url = pickValue(flags.server, "--server", ENV_NAMES.serverUrl, httpUrl);
  const apiKey = pickValue(flags.apiKey, "--api-key", ENV_NAMES.serverApiKey, credential);
  if (!url) {
    if (flags.apiKey !== undefined) {
      throw new ValidationError([
        {
          path: "--api-key",
          message: `is the key of a shared service: add --server <url> (or set ${ENV_NAMES.serverUrl})`,
        },
      ]);
    }
    return undefined;
  }
  return { url, ...(apiKey ? { apiKey } : {}) };
}

/** True when this run uses the built-in emulator (`--emulator` or `JIMENG_EMULATOR=1`). */
export function emulatorRequested(env: NodeJS.ProcessEnv, flag: boolean): boolean {
  return flag || envFlag(env[ENV_NAMES.emulator]);
}

/**
 * Pure: every setting with where it came from. Throws ConfigError (exit 3) for a bad environment value and
 * ValidationError (exit 2) for a bad flag value. Does not require credentials: see `providerConfig`.
 */
export function resolveSettings(input: SettingsInput): Settings {
  const { env, store } = input;
  const flags = input.flags ?? {};
  const setting = <K extends ConfigKey>(key: K, flag?: string, flagValue?: string) =>
    pick(
      flag === undefined ? undefined : fromFlag(key, flag, flagValue),
      fromEnv(env, key, ENV_NAMES[key as keyof typeof ENV_NAMES]),
      store[key] as NonNullable<ConfigValues[K]> | undefined,
      (DEFAULTS as Partial<Record<ConfigKey, NonNullable<ConfigValues[K]>>>)[key],
    );

  const settings: Settings = {
    visualEndpoint: setting("visualEndpoint") as Setting<string>,
    region: setting("region", "--region", flags.region) as Setting<string>,
    sessionEndpoint: setting("sessionEndpoint") as Setting<string>,
    arkEndpoint: setting("arkEndpoint") as Setting<string>,
    outDir: setting("outDir", "--out", flags.out) as Setting<string>,
    emulator: emulatorRequested(env, flags.emulator === true),
  };
  const accessKeyId = setting("accessKeyId");
  const secretAccessKey = setting("secretAccessKey");
  const sessionId = setting("sessionId");
  const arkApiKey = setting("arkApiKey");
  if (arkApiKey) settings.arkApiKey = arkApiKey;
  const sessionToken = env[ENV_NAMES.sessionToken]?.trim();
  if (accessKeyId) settings.accessKeyId = accessKeyId;
  if (secretAccessKey) settings.secretAccessKey = secretAccessKey;
  if (sessionId) settings.sessionId = sessionId;
  if (sessionToken) settings.sessionToken = { value: sessionToken, source: "env" };

  // Contract order: --provider, then the model when only one provider serves it, then env, config, credentials.
  const byModel: Setting<ProviderName> | undefined =
    flags.provider === undefined && flags.model !== undefined && isArkModelName(flags.model)
      ? { value: "ark", source: "flag" }
      : undefined;
  const provider =
    byModel ??
    pick(flags.provider, fromEnv(env, "provider", ENV_NAMES.provider), store.provider) ??
    autoProvider(settings);
  if (provider) settings.provider = provider;

  if (flags.endpoint !== undefined) {
    const endpoint = fromFlag("visualEndpoint", "--endpoint", flags.endpoint) as string;
    const key =
      provider?.value === "session"
        ? "sessionEndpoint"
        : provider?.value === "ark"
          ? "arkEndpoint"
          : "visualEndpoint";
    settings[key] = { value: endpoint, source: "flag" };
  }
  return settings;
}

function autoProvider(settings: Settings): Setting<ProviderName> | undefined {
  if (settings.accessKeyId && settings.secretAccessKey) return { value: "visual", source: "auto" };
  if (settings.arkApiKey) return { value: "ark", source: "auto" };
  if (settings.sessionId) return { value: "session", source: "auto" };
  return undefined;
}

/** Everything a provider client needs, with its credentials checked. */
export type ProviderConfig =
  | {
      provider: "visual";
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      endpoint: string;
      region: string;
    }
  | { provider: "session"; sessionIds: string[]; endpoint: string }
  | {
      provider: "ark";
      apiKey: string;
      endpoint: string;
      /** Where the synchronous image results are kept between processes (set by the CLI; memory otherwise). */
      resultsFile?: string;
    };

const VISUAL_HOWTO = howToSet("accessKeyId", "secretAccessKey");
const SESSION_HOWTO = howToSet("sessionId");
const ARK_HOWTO = howToSet("arkApiKey");
const EMULATOR_HOWTO = "to try everything offline, add --emulator";

/**
 * The chosen provider's configuration, or a ConfigError (exit 3) that says how to configure it. The provider
 * is the explicit one, else visual when an access key pair is configured, else session when a session id is.
 */
export function providerConfig(settings: Settings): ProviderConfig {
  const provider = settings.provider?.value;
  if (provider === undefined) {
    throw new ConfigError("no credentials configured for any provider", {
      hint: `for the Visual API, ${VISUAL_HOWTO}; for Ark, ${ARK_HOWTO}; for a session server, ${SESSION_HOWTO}; ${EMULATOR_HOWTO}`,
    });
  }
  if (provider === "visual") {
    if (!settings.accessKeyId || !settings.secretAccessKey) {
      const missing = !settings.accessKeyId ? "access key id" : "secret access key";
      throw new ConfigError(`the visual provider needs an access key pair; the ${missing} is not set`, {
        hint: `${VISUAL_HOWTO}; ${EMULATOR_HOWTO}`,
      });
    }
    return {
      provider,
      accessKeyId: settings.accessKeyId.value,
      secretAccessKey: settings.secretAccessKey.value,
      ...(settings.sessionToken ? { sessionToken: settings.sessionToken.value } : {}),
      endpoint: settings.visualEndpoint.value,
      region: settings.region.value,
    };
  }
  if (provider === "ark") {
    if (!settings.arkApiKey) {
      throw new ConfigError("the ark provider needs an Ark API key, and none is set", {
        hint: `${ARK_HOWTO}; ${EMULATOR_HOWTO}`,
      });
    }
    return { provider, apiKey: settings.arkApiKey.value, endpoint: settings.arkEndpoint.value };
  }
  const sessionIds = (settings.sessionId?.value ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (sessionIds.length === 0) {
    throw new ConfigError("the session provider needs a session id, and none is set", {
      hint: `${SESSION_HOWTO}; ${EMULATOR_HOWTO}`,
    });
  }
  return { provider, sessionIds, endpoint: settings.sessionEndpoint.value };
}

/** What `--emulator` needs from a running emulator. */
export interface EmulatorTarget {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionId: string; arkApiKey: string };
}

/**
 * Pure: `settings` pointed at a running emulator, with its demo credentials. Keeps an explicit provider, else
 * the one the user's own credentials would pick, else visual.
 */
export function withEmulator(settings: Settings, emulator: EmulatorTarget): Settings {
  const at = (value: string): Setting<string> => ({ value, source: "emulator" });
  const { sessionToken: _dropped, ...rest } = settings;
  return {
    ...rest,
    provider: settings.provider ?? { value: "visual", source: "auto" },
    accessKeyId: at(emulator.credentials.accessKeyId),
    secretAccessKey: at(emulator.credentials.secretAccessKey),
    sessionId: at(emulator.credentials.sessionId),
    visualEndpoint: at(emulator.url),
    sessionEndpoint: at(emulator.url),
    arkApiKey: at(emulator.credentials.arkApiKey),
    arkEndpoint: at(`${emulator.url}/api/v3`),
    emulator: true,
  };
}

/**
 * The values the output scrubber must remove: the secret key, the STS token, the session ids and the Ark key (the
 * scrubber splits comma-separated lists and `proxy@id` tokens itself).
 */
export function secretsOf(settings: Settings): string[] {
  return [settings.secretAccessKey, settings.sessionToken, settings.sessionId, settings.arkApiKey]
    .filter((setting): setting is Setting<string> => setting !== undefined)
    .map((setting) => setting.value);
}
