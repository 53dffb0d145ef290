import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  configFilePath,
  DEFAULTS,
  providerConfig,
  resolveSettings,
  secretsOf,
  withEmulator,
} from "../../src/cli/config.js";
import { ConfigError, exitCodeFor } from "../../src/cli/exit-codes.js";
import { ValidationError } from "../../src/errors.js";

const PAIR = { accessKeyId: "AKLTstore0000", secretAccessKey: "store-secret-key" };

describe("resolveSettings", () => {
  it("uses the defaults of the contract when nothing is set", () => {
    const settings = resolveSettings({ env: {}, store: {} });
    expect(settings.visualEndpoint).toEqual({ value: DEFAULTS.visualEndpoint, source: "default" });
    expect(settings.region).toEqual({ value: "cn-north-1", source: "default" });
    expect(settings.sessionEndpoint).toEqual({ value: "http://127.0.0.1:5100", source: "default" });
    expect(settings.outDir).toEqual({ value: "./jimeng-output", source: "default" });
    expect(settings.provider).toBeUndefined();
    expect(settings.emulator).toBe(false);
  });

  it("takes a flag over the environment over the store over the default", () => {
    const store = { region: "store-region-1" };
    const env = { JIMENG_REGION: "env-region-1" };
    expect(resolveSettings({ env: {}, store }).region).toEqual({ value: "store-region-1", source: "config" });
    expect(resolveSettings({ env, store }).region).toEqual({ value: "env-region-1", source: "env" });
    expect(resolveSettings({ env, store, flags: { region: "flag-region-1" } }).region).toEqual({
      value: "flag-region-1",
      source: "flag",
    });
  });

  it("reads every credential and endpoint from its environment variable", () => {
    const settings = resolveSettings({
      env: {
        VOLC_ACCESSKEY: "AKLTenv",
        VOLC_SECRETKEY: "env-secret",
        VOLC_SESSION_TOKEN: "sts-token",
        JIMENG_VISUAL_ENDPOINT: "https://visual.example.test",
        JIMENG_SESSION_ID: "sid-1,sid-2",
        JIMENG_SESSION_ENDPOINT: "http://127.0.0.1:8000",
        JIMENG_PROVIDER: "session",
        JIMENG_EMULATOR: "1",
      },
      store: PAIR,
    });
    expect(settings.accessKeyId).toEqual({ value: "AKLTenv", source: "env" });
    expect(settings.secretAccessKey).toEqual({ value: "env-secret", source: "env" });
    expect(settings.sessionToken).toEqual({ value: "sts-token", source: "env" });
    expect(settings.visualEndpoint.value).toBe("https://visual.example.test");
    expect(settings.sessionId).toEqual({ value: "sid-1,sid-2", source: "env" });
    expect(settings.sessionEndpoint.value).toBe("http://127.0.0.1:8000");
    expect(settings.provider).toEqual({ value: "session", source: "env" });
    expect(settings.emulator).toBe(true);
  });

  it("ignores empty environment variables", () => {
    const settings = resolveSettings({ env: { JIMENG_REGION: "", VOLC_ACCESSKEY: " " }, store: PAIR });
    expect(settings.region.source).toBe("default");
    expect(settings.accessKeyId).toEqual({ value: PAIR.accessKeyId, source: "config" });
  });

  it("applies --endpoint to the chosen provider's endpoint", () => {
    const visual = resolveSettings({ env: {}, store: PAIR, flags: { endpoint: "http://127.0.0.1:9" } });
    expect(visual.visualEndpoint).toEqual({ value: "http://127.0.0.1:9", source: "flag" });
    expect(visual.sessionEndpoint.source).toBe("default");

    const session = resolveSettings({
      env: {},
      store: { sessionId: "sid" },
      flags: { endpoint: "http://127.0.0.1:9" },
    });
    expect(session.sessionEndpoint).toEqual({ value: "http://127.0.0.1:9", source: "flag" });
    expect(session.visualEndpoint.source).toBe("default");
  });

  it("rejects a bad flag value as a usage error naming the flag", () => {
    const error = (() => {
      try {
        resolveSettings({ env: {}, store: {}, flags: { endpoint: "not a url" } });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe("--endpoint");
  });

  it("rejects a bad environment value as a configuration error naming the variable", () => {
    expect(() => resolveSettings({ env: { JIMENG_SESSION_ENDPOINT: "localhost:5100" }, store: {} })).toThrow(
      /JIMENG_SESSION_ENDPOINT/,
    );
  });
});

describe("provider choice", () => {
  it("picks visual when an access key pair is configured, even with a session id", () => {
    const settings = resolveSettings({ env: { JIMENG_SESSION_ID: "sid" }, store: PAIR });
    expect(settings.provider).toEqual({ value: "visual", source: "auto" });
    expect(providerConfig(settings)).toEqual({
      provider: "visual",
      ...PAIR,
      endpoint: DEFAULTS.visualEndpoint,
      region: "cn-north-1",
    });
  });

  it("picks session when only a session id is configured, splitting several ids", () => {
    const settings = resolveSettings({ env: { JIMENG_SESSION_ID: " a-111 , us-b-222 ," }, store: {} });
    expect(settings.provider).toEqual({ value: "session", source: "auto" });
    expect(providerConfig(settings)).toEqual({
      provider: "session",
      sessionIds: ["a-111", "us-b-222"],
      endpoint: "http://127.0.0.1:5100",
    });
  });

  it("does not pick visual from half a key pair", () => {
    const settings = resolveSettings({ env: { VOLC_ACCESSKEY: "AKLTonly" }, store: { sessionId: "sid" } });
    expect(settings.provider?.value).toBe("session");
  });

  it("an explicit provider wins over the automatic choice", () => {
    const settings = resolveSettings({ env: {}, store: { ...PAIR, sessionId: "sid", provider: "session" } });
    expect(settings.provider).toEqual({ value: "session", source: "config" });
    const flagged = resolveSettings({
      env: { JIMENG_PROVIDER: "session" },
      store: PAIR,
      flags: { provider: "visual" },
    });
    expect(flagged.provider).toEqual({ value: "visual", source: "flag" });
  });

  it("without credentials, fails with exit code 3 explaining both providers and --emulator", () => {
    const settings = resolveSettings({ env: {}, store: {} });
    let error: unknown;
    try {
      providerConfig(settings);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(error)).toBe(3);
    const hint = (error as ConfigError).hint ?? "";
    expect(hint).toContain("VOLC_ACCESSKEY");
    expect(hint).toContain("JIMENG_SESSION_ID");
    expect(hint).toContain("--emulator");
  });

  it("an explicit provider without its credentials fails with exit code 3 naming what is missing", () => {
    const visual = resolveSettings({
      env: { VOLC_ACCESSKEY: "AKLTonly" },
      store: {},
      flags: { provider: "visual" },
    });
    expect(() => providerConfig(visual)).toThrow(/secret access key is not set/);
    const session = resolveSettings({ env: {}, store: PAIR, flags: { provider: "session" } });
    expect(() => providerConfig(session)).toThrow(/needs a session id/);
  });
});

describe("withEmulator", () => {
  const emulator = {
    url: "http://127.0.0.1:4000",
    credentials: {
      accessKeyId: "AKLTdemo",
      secretAccessKey: "demo-secret",
      sessionId: "demo-session",
      arkApiKey: "demo-ark-key",
    },
  };

  it("points both providers at the emulator with its demo credentials", () => {
    const settings = withEmulator(resolveSettings({ env: {}, store: {} }), emulator);
    expect(providerConfig(settings)).toEqual({
      provider: "visual",
      accessKeyId: "AKLTdemo",
      secretAccessKey: "demo-secret",
      endpoint: "http://127.0.0.1:4000",
      region: "cn-north-1",
    });
    expect(settings.sessionEndpoint).toEqual({ value: "http://127.0.0.1:4000", source: "emulator" });
  });

  it("keeps the provider the user's own configuration picks", () => {
    const settings = withEmulator(
      resolveSettings({ env: { JIMENG_SESSION_ID: "real" }, store: {} }),
      emulator,
    );
    expect(providerConfig(settings)).toEqual({
      provider: "session",
      sessionIds: ["demo-session"],
      endpoint: "http://127.0.0.1:4000",
    });
  });
});

describe("secretsOf", () => {
  it("lists the secret key, the STS token and the session ids, never the access key id", () => {
    const settings = resolveSettings({
      env: { VOLC_SESSION_TOKEN: "sts-token", JIMENG_SESSION_ID: "sid-a,sid-b" },
      store: PAIR,
    });
    expect(secretsOf(settings).sort()).toEqual(["sid-a,sid-b", "store-secret-key", "sts-token"]);
  });
});

describe("configFilePath", () => {
  it("is the file conf itself uses, by default and with JIMENG_CONFIG_DIR", async () => {
    const { default: Conf } = await import("conf");
    expect(configFilePath(process.env)).toBe(new Conf({ projectName: "jimeng" }).path);
    const env = { JIMENG_CONFIG_DIR: "relative/dir" };
    expect(configFilePath(env)).toBe(new Conf({ projectName: "jimeng", cwd: "relative/dir" }).path);
  });

  it("follows each platform's convention", () => {
    const home = homedir();
    expect(configFilePath({ XDG_CONFIG_HOME: "/xdg" }, "linux")).toBe("/xdg/jimeng-nodejs/config.json");
    expect(configFilePath({}, "linux")).toBe(join(home, ".config", "jimeng-nodejs", "config.json"));
    expect(configFilePath({}, "darwin")).toBe(
      join(home, "Library", "Preferences", "jimeng-nodejs", "config.json"),
    );
  });
});
