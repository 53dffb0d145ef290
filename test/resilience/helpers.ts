/**
 * Shared by the resilience suites. Sizes come from JIMENG_LONG: `npm run test:resilience` sets it for the full
 * suites; `npm test` runs the same files in their quick (smoke) sizes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { main } from "../../src/cli/main.js";
import type { RunningEmulator } from "../../src/emulator/server.js";
import { fakeTerminal } from "../cli/helpers.js";

export const LONG = process.env.JIMENG_LONG === "1";

/** Custom, unmistakable credentials: any byte of them in any output is a leak. */
export const SECRETS = {
  accessKeyId: "AKLTresilience00000042",
  secretAccessKey: "resilience-SECRET-key-7f3a9c",
  sessionId: "resilience-SESSION-id-51be0d",
};

export function summary(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function tempRoot(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against the emulator, as a user with both providers configured would. */
export async function cli(
  argv: string[],
  options: { emulator: RunningEmulator; configDir: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<CliRun> {
  const t = fakeTerminal({
    env: {
      JIMENG_CONFIG_DIR: options.configDir,
      JIMENG_VISUAL_ENDPOINT: options.emulator.url,
      JIMENG_SESSION_ENDPOINT: options.emulator.url,
      VOLC_ACCESSKEY: SECRETS.accessKeyId,
      VOLC_SECRETKEY: SECRETS.secretAccessKey,
      JIMENG_SESSION_ID: SECRETS.sessionId,
      JIMENG_POLL_INTERVAL: "5ms",
      CI: "1",
      ...options.env,
    },
    signal: new AbortController().signal,
  });
  const code = await main(argv, t.io);
  return { code, out: t.out(), err: t.err() };
}

/** Every file below `dir`, as paths relative to it. */
export function filesBelow(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(relative(dir, full));
    }
  };
  if (statSync(dir, { throwIfNoEntry: false })) walk(dir);
  return found;
}
