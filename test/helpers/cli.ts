/**
 * Running the CLI in tests, as a user with both providers configured against a loopback emulator would:
 * - `emulatorSettings` — the settings (endpoints, credentials, config folder) that point the CLI at it;
 * - `runMain` — `main()` in-process on a fake terminal, for most tests;
 * - `cleanEnv` + `runBin` / `runCli` — the built bin (`npm run build` first) in a child process, with the test
 *   process's environment minus anything of ours (JIMENG_*, VOLC_*, ARK_*, CI, colours).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import { fakeTerminal } from "../cli/helpers.js";

export const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));

/** What the settings need of an emulator (a RunningEmulator, or its URL and credentials). */
export interface EmulatorTarget {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionId: string; arkApiKey: string };
}

/** The environment that configures both providers against `emulator`, with its own config folder. */
export function emulatorSettings(emulator: EmulatorTarget, configDir: string): NodeJS.ProcessEnv {
  return {
    JIMENG_CONFIG_DIR: configDir,
    JIMENG_VISUAL_ENDPOINT: emulator.url,
    JIMENG_SESSION_ENDPOINT: emulator.url,
    VOLC_ACCESSKEY: emulator.credentials.accessKeyId,
    VOLC_SECRETKEY: emulator.credentials.secretAccessKey,
    JIMENG_SESSION_ID: emulator.credentials.sessionId,
    JIMENG_ARK_ENDPOINT: `${emulator.url}/api/v3`,
    ARK_API_KEY: emulator.credentials.arkApiKey,
  };
}

export interface MainRun {
  code: number;
  out: string;
  err: string;
}

export interface MainOptions {
  env: NodeJS.ProcessEnv;
  /** Both streams claim to be a terminal. */
  tty?: boolean;
  stdin?: string;
  /** Ctrl-C for the run; by default one that never fires (so `main()` installs no signal handlers). */
  signal?: AbortSignal;
  /** Called with everything written to stderr so far, on every write. */
  onStderr?: (text: string) => void;
}

/** `jimeng <argv>` in this process, with exactly `env` (nothing of the test process's own). */
export async function runMain(argv: readonly string[], options: MainOptions): Promise<MainRun> {
  const terminal = fakeTerminal({
    env: options.env,
    tty: options.tty === true,
    signal: options.signal ?? new AbortController().signal,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
  const { onStderr } = options;
  if (onStderr) terminal.streams.stderr.on("data", () => onStderr(terminal.err()));
  const code = await main(argv, terminal.io);
  return { code, out: terminal.out(), err: terminal.err() };
}

/** The test process's environment without anything that configures jimeng, plus `settings` and NO_COLOR. */
export function cleanEnv(settings: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(JIMENG_|VOLC_|ARK_|CI$|NO_COLOR$|FORCE_COLOR$)/.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: "1", ...settings };
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface BinResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running bin: its output so far and its end. */
export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<BinResult>;
}

/** Starts `node bin/jimeng.js <args>`; `input` is written to its stdin (closed either way). */
export function runCli(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (child.stdin) {
    child.stdin.on("error", () => {});
    child.stdin.end(options.input);
  }
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<BinResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the bin to its end. */
export function runBin(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): Promise<BinResult> {
  return runCli(args, options).exited;
}

/** Resolves when `predicate` holds for the run's stderr (checked on every chunk), or when it exits. */
export function whenStderr(run: CliRun, predicate: (text: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const check = () => {
      if (predicate(run.stderr())) {
        run.child.stderr?.off("data", check);
        resolve(true);
      }
    };
    run.child.stderr?.on("data", check);
    void run.exited.then(() => resolve(predicate(run.stderr())));
    check();
  });
}

/** The environment for a spawned bin pointed at `emulator` for both providers, with its own config folder. */
export function emulatorEnv(emulator: EmulatorTarget, configDir: string): NodeJS.ProcessEnv {
  return cleanEnv(emulatorSettings(emulator, configDir));
}
