/**
 * Shared by the resilience suites. Sizes come from JIMENG_LONG: `npm run test:resilience` sets it for the full
 * suites; `npm test` runs the same files in their quick (smoke) sizes.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import type { RunningEmulator } from "../../src/emulator/server.js";
import { cleanEnv, emulatorSettings, runBin, runMain } from "../helpers/cli.js";

export const LONG = process.env.JIMENG_LONG === "1";

/** Custom, unmistakable credentials: any byte of them in any output is a leak. */
export const SECRETS = {
  accessKeyId: "AKLTresilience00000042",
  secretAccessKey: "resilience-SECRET-key-7f3a9c",
  sessionId: "resilience-SESSION-id-51be0d",
  arkApiKey: "resilience-ARK-key-9d24e1",
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
export function cli(
  argv: string[],
  options: { emulator: RunningEmulator; configDir: string; env?: NodeJS.ProcessEnv },
): Promise<CliRun> {
  const settings = emulatorSettings({ url: options.emulator.url, credentials: SECRETS }, options.configDir);
  return runMain(argv, { env: { ...settings, JIMENG_POLL_INTERVAL: "5ms", CI: "1", ...options.env } });
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

// ------------------------------------------------------------------ the built bin, spawned as a user would

export { BIN } from "../helpers/cli.js";

export interface SpawnedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * The environment that points a spawned CLI at `emulator` for both providers, with its own config folder,
 * `CI=1` and nothing else of ours inherited from the test process.
 */
export function binEnv(
  emulator: RunningEmulator,
  configDir: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return cleanEnv({
    ...emulatorSettings(emulator, configDir),
    CI: "1",
    JIMENG_POLL_INTERVAL: "20ms",
    ...extra,
  });
}

/** Runs `node bin/jimeng.js ...argv` in `cwd`; `input` goes to stdin (closed either way). */
export async function spawnCli(
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): Promise<SpawnedRun> {
  const { code, signal, stdout, stderr } = await runBin(argv, { ...options, input: options.input ?? "" });
  return { code, signal, out: stdout, err: stderr };
}

/** Runs `work` over `items`, at most `concurrency` at once; results in input order. */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** True when `target` is `dir` itself or below it (both absolute). */
export function isInside(dir: string, target: string): boolean {
  const rel = relative(dir, target);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Counts the bytes of secrets in what the suites produced: each secret as written, base64- and
 * percent-encoded (a leak through a dumped header or a URL counts too).
 */
export class SecretScanner {
  readonly #needles: { label: string; bytes: Buffer }[] = [];
  readonly leaks: string[] = [];
  bytesScanned = 0;
  sources = 0;
  leakedBytes = 0;

  constructor(secrets: Record<string, string>) {
    for (const [label, secret] of Object.entries(secrets)) {
      const forms = new Set([secret, Buffer.from(secret).toString("base64"), encodeURIComponent(secret)]);
      for (const form of forms) this.#needles.push({ label, bytes: Buffer.from(form) });
    }
  }

  scan(where: string, content: string | Uint8Array): void {
    const bytes = typeof content === "string" ? Buffer.from(content) : Buffer.from(content);
    this.bytesScanned += bytes.length;
    this.sources++;
    for (const needle of this.#needles) {
      for (let at = bytes.indexOf(needle.bytes); at !== -1; at = bytes.indexOf(needle.bytes, at + 1)) {
        this.leakedBytes += needle.bytes.length;
        this.leaks.push(`${needle.label} in ${where} at byte ${at}`);
      }
    }
  }

  /** Every file below `dir` except those `skip` accepts (the config file, which stores them on purpose). */
  scanTree(dir: string, skip: (file: string) => boolean = () => false): void {
    for (const file of filesBelow(dir)) {
      if (!skip(file)) this.scan(join(dir, file), readFileSync(join(dir, file)));
    }
  }
}

/** Extra tasks the emulator created for the same prompt (every prompt in a suite is unique). */
export function duplicateSubmits(emulator: RunningEmulator): number {
  return Object.values(emulator.counters.tasksByPrompt).reduce((sum, n) => sum + Math.max(0, n - 1), 0);
}

/** The statuses a job ends in. */
export const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "expired", "cancelled"]);
