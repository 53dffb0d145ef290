import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommandContext, GlobalOptions } from "../../src/cli/command-types.js";
import { ConfigError } from "../../src/cli/exit-codes.js";
import { Output } from "../../src/cli/output.js";
import { prepareProvider } from "../../src/cli/settings.js";
import { fakeTerminal, tempConfigDir } from "./helpers.js";

let folder: ReturnType<typeof tempConfigDir>;
beforeEach(() => {
  folder = tempConfigDir();
});
afterEach(() => folder.cleanup());

function context(env: NodeJS.ProcessEnv, globals: Partial<GlobalOptions> = {}) {
  const t = fakeTerminal({ env: { JIMENG_CONFIG_DIR: folder.dir, ...env } });
  const all: GlobalOptions = {
    json: false,
    quiet: false,
    verbose: false,
    color: false,
    emulator: false,
    ...globals,
  };
  const ctx: CommandContext = {
    io: t.io,
    env: t.io.env,
    globals: all,
    output: new Output(t.io, all),
    signal: new AbortController().signal,
  };
  return { ctx, t };
}

describe("prepareProvider", () => {
  it("without credentials fails with a ConfigError that mentions --emulator", async () => {
    const { ctx } = context({});
    await expect(prepareProvider(ctx)).rejects.toBeInstanceOf(ConfigError);
    await expect(prepareProvider(ctx)).rejects.toThrow(/no credentials configured/);
  });

  it("registers the configured secrets with the output scrubber", async () => {
    const { ctx, t } = context({ VOLC_ACCESSKEY: "AKLTfromenv", VOLC_SECRETKEY: "secret-from-env-123" });
    const prepared = await prepareProvider(ctx, { region: "cn-beijing-2" });
    expect(prepared.provider).toMatchObject({ provider: "visual", region: "cn-beijing-2" });
    ctx.output.info("signing with secret-from-env-123");
    expect(t.err()).toBe("signing with [redacted]\n");
  });

  it("with --emulator, starts a loopback emulator and points the provider at it with demo credentials", async () => {
    const { ctx } = context({}, { emulator: true });
    const prepared = await prepareProvider(ctx);
    try {
      expect(prepared.provider.provider).toBe("visual");
      expect(prepared.provider.endpoint).toBe(prepared.emulatorUrl);
      const counters = await fetch(`${prepared.emulatorUrl}/__emulator/counters`);
      expect(counters.status).toBe(200);
    } finally {
      await prepared.close();
    }
    await expect(fetch(`${prepared.emulatorUrl}/__emulator/counters`)).rejects.toThrow();
  });

  it("JIMENG_EMULATOR=1 does the same as --emulator, keeping an explicit provider", async () => {
    const { ctx } = context({ JIMENG_EMULATOR: "1" }, { provider: "session" });
    const prepared = await prepareProvider(ctx);
    try {
      expect(prepared.provider).toEqual({
        provider: "session",
        sessionIds: [expect.any(String)],
        endpoint: prepared.emulatorUrl,
      });
    } finally {
      await prepared.close();
    }
  });
});
