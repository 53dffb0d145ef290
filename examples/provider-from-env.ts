/**
 * Shared by the examples: a provider from the usual environment variables (VOLC_ACCESSKEY + VOLC_SECRETKEY,
 * or JIMENG_SESSION_ID), or — when none is set — the built-in emulator, so every example runs offline as is.
 */
import { createProvider, type Provider } from "jimeng";
import { startEmulator } from "jimeng/emulator";

export interface ExampleProvider {
  provider: Provider;
  /** Set with the emulator, whose tasks finish in milliseconds: poll at least this often. */
  maxPollIntervalMs?: number;
  stop: () => Promise<void>;
}

/** `JIMENG_POLL_INTERVAL=100ms` caps the wait between polls, as it does for the CLI. */
function pollCap(value: string | undefined): number | undefined {
  const match = value ? /^(\d+)(ms|s)?$/.exec(value.trim()) : null;
  if (!match) return undefined;
  return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
}

export async function providerFromEnv(): Promise<ExampleProvider> {
  const env = process.env;
  const maxPollIntervalMs = pollCap(env.JIMENG_POLL_INTERVAL);
  if (env.VOLC_ACCESSKEY && env.VOLC_SECRETKEY && env.JIMENG_PROVIDER !== "session") {
    const provider = createProvider({
      provider: "visual",
      accessKeyId: env.VOLC_ACCESSKEY,
      secretAccessKey: env.VOLC_SECRETKEY,
      ...(env.VOLC_SESSION_TOKEN ? { sessionToken: env.VOLC_SESSION_TOKEN } : {}),
      ...(env.JIMENG_VISUAL_ENDPOINT ? { endpoint: env.JIMENG_VISUAL_ENDPOINT } : {}),
    });
    return { provider, maxPollIntervalMs, stop: () => provider.close() };
  }
  if (env.JIMENG_SESSION_ID) {
    const provider = createProvider({
      provider: "session",
      sessionId: env.JIMENG_SESSION_ID,
      ...(env.JIMENG_SESSION_ENDPOINT ? { endpoint: env.JIMENG_SESSION_ENDPOINT } : {}),
    });
    return { provider, maxPollIntervalMs, stop: () => provider.close() };
  }
  console.error("no credentials in the environment: using the built-in emulator");
  const emulator = await startEmulator({ durations: { image: 300, video: 600 } });
  const { accessKeyId, secretAccessKey } = emulator.credentials;
  const provider = createProvider({
    provider: "visual",
    accessKeyId,
    secretAccessKey,
    endpoint: emulator.url,
  });
  return {
    provider,
    maxPollIntervalMs: 100,
    stop: async () => {
      await provider.close();
      await emulator.stop();
    },
  };
}
