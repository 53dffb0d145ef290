/**
 * The one table of the names users type to configure jimeng: environment variables and config-store keys.
 * Hints at every layer build their "how to set it" text from here, so that none can name a variable, key or
 * command that does not exist (a test checks every hint against this table and the CLI's own help).
 */
export const ENV_NAMES = {
  accessKeyId: "VOLC_ACCESSKEY",
  secretAccessKey: "VOLC_SECRETKEY",
  sessionToken: "VOLC_SESSION_TOKEN",
  visualEndpoint: "JIMENG_VISUAL_ENDPOINT",
  region: "JIMENG_REGION",
  sessionId: "JIMENG_SESSION_ID",
  sessionEndpoint: "JIMENG_SESSION_ENDPOINT",
  arkApiKey: "ARK_API_KEY",
  arkEndpoint: "JIMENG_ARK_ENDPOINT",
  provider: "JIMENG_PROVIDER",
  emulator: "JIMENG_EMULATOR",
  configDir: "JIMENG_CONFIG_DIR",
  pollInterval: "JIMENG_POLL_INTERVAL",
  /** `--redis` of `serve`, `worker` and `batch`: the shared BullMQ queue. */
  redisUrl: "JIMENG_REDIS_URL",
  serverUrl: "JIMENG_SERVER_URL",
  serverApiKey: "JIMENG_SERVER_API_KEY",
} as const;

/** The credentials a user sets, each with its variable and a config command that stores it. */
const CREDENTIALS = {
  accessKeyId: { env: ENV_NAMES.accessKeyId, config: "`jimeng config set accessKeyId <id>`" },
  secretAccessKey: {
    env: ENV_NAMES.secretAccessKey,
    config: "`jimeng config set secretAccessKey -` (reads the key from stdin)",
  },
  sessionId: { env: ENV_NAMES.sessionId, config: "`jimeng config set sessionId -` (reads it from stdin)" },
  arkApiKey: { env: ENV_NAMES.arkApiKey, config: "`jimeng config set arkApiKey -` (reads it from stdin)" },
} as const;

export type CredentialName = keyof typeof CREDENTIALS;

/** How to set credentials, e.g. "export VOLC_ACCESSKEY and VOLC_SECRETKEY, or run `jimeng config set …`". */
export function howToSet(...names: CredentialName[]): string {
  const variables = names.map((name) => CREDENTIALS[name].env).join(" and ");
  const commands = names.map((name) => CREDENTIALS[name].config).join(" and ");
  return `export ${variables}, or run ${commands}`;
}
