/**
 * Security at the edges: what a server, a file or a folder sends us never reaches the terminal raw, a file
 * outside `-o`, or a secret in any output. Each attack is replayed against the built bin (`npm run build`
 * first), through a hostile loopback proxy in front of the emulator where a server has to misbehave.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { BIN, binEnv, SecretScanner, spawnCli, tempRoot } from "./helpers.js";
import { type HostileProxy, jsonOf, sendJson, startHostileProxy } from "./hostile.js";

const HOSTILE_MESSAGE = "x\u001b[2K\r✔ [1/1] a: succeeded\n::error::pwned\u0007";

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
let case_ = 0;

beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5, video: 10 } });
  root = tempRoot("jimeng-edges-");
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

/** A fresh folder for one case, with its own config folder. */
function caseDir(): { dir: string; configDir: string } {
  const dir = join(root.dir, `case-${++case_}`);
  mkdirSync(dir, { recursive: true });
  return { dir, configDir: join(dir, "config") };
}

function envFor(configDir: string, endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return binEnv(emulator, configDir, {
    JIMENG_VISUAL_ENDPOINT: endpoint,
    JIMENG_SESSION_ENDPOINT: endpoint,
    ...extra,
  });
}

async function withProxy<T>(
  rules: Parameters<typeof startHostileProxy>[1],
  work: (proxy: HostileProxy) => Promise<T>,
) {
  const proxy = await startHostileProxy(emulator.url, rules);
  try {
    return await work(proxy);
  } finally {
    await proxy.close();
  }
}

/** Rules that replace the message of every failed Visual GetResult answer. */
function visualFailureMessage(message: string): Parameters<typeof startHostileProxy>[1] {
  return {
    reply(exchange) {
      if (!exchange.path.includes("CVSync2AsyncGetResult")) return undefined;
      const json = jsonOf(exchange.body);
      if (!json || json.code === 10000) return undefined;
      return JSON.stringify({ ...json, message });
    },
  };
}

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("1. terminal and CI-log injection", () => {
  it("escapes a server's error message on the terminal, and keeps it exact in --json", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    await withProxy(visualFailureMessage(HOSTILE_MESSAGE), async (proxy) => {
      const env = envFor(configDir, proxy.url);
      const human = await spawnCli(["--verbose", "generate", "a cat [fail:50511]", "-o", dir], {
        env,
        cwd: dir,
      });
      expect(human.code).toBe(1);
      expect(human.err).not.toMatch(RAW_CONTROL);
      expect(human.err.split("\n").filter((line) => /^(::error::|✔ \[1\/1\])/.test(line))).toEqual([]);
      expect(human.err).toContain("\\x1b[2K\\r✔ [1/1] a: succeeded\\n::error::pwned\\x07");
      // The code is shown once, not `[50511] [50511]`.
      expect(human.err.match(/50511/g)?.length ?? 0).toBeLessThanOrEqual(1);

      const json = await spawnCli(["--json", "generate", "a cat [fail:50511]", "-o", dir], { env, cwd: dir });
      expect(json.code).toBe(1);
      const document = JSON.parse(json.out) as { error: { message: string } };
      expect(document.error.message).toContain(HOSTILE_MESSAGE);
      expect(json.err).not.toMatch(RAW_CONTROL);
    });
  });
});
