/**
 * Spawns the built `jimeng` bin against an emulator that runs in the test process (so it outlives a killed
 * CLI), pointed at it through the environment, with a temp config folder. `npm run build` first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningEmulator } from "../../src/emulator/server.js";

export const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The environment that points the CLI at `emulator` for every provider, and nothing else of ours. */
export function emulatorEnv(emulator: RunningEmulator, configDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(JIMENG_|VOLC_|ARK_|CI$|NO_COLOR$|FORCE_COLOR$)/.test(key)) env[key] = value;
  }
  return {
    ...env,
    JIMENG_VISUAL_ENDPOINT: emulator.url,
    VOLC_ACCESSKEY: emulator.credentials.accessKeyId,
    VOLC_SECRETKEY: emulator.credentials.secretAccessKey,
    JIMENG_SESSION_ENDPOINT: emulator.url,
    JIMENG_SESSION_ID: emulator.credentials.sessionId,
    JIMENG_ARK_ENDPOINT: `${emulator.url}/api/v3`,
    ARK_API_KEY: emulator.credentials.arkApiKey,
    JIMENG_CONFIG_DIR: configDir,
    NO_COLOR: "1",
  };
}

export function runCli(args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string }): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
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
