/**
 * The built `jimeng worker` as a child process on a test Redis, pointed at an emulator in the test process
 * (which outlives a killed worker and counts every submit). `npm run build` first. Shared by the fault tests
 * and the benchmark.
 */

import type { RunningEmulator } from "../../src/emulator/server.js";
import { type CliRun, emulatorEnv, runCli } from "../e2e/batch-cli.js";

export interface WorkerProcess {
  run: CliRun;
  /** Resolves once the worker exited; SIGKILL when `hard`. */
  stop(hard?: boolean): Promise<{ code: number | null; stderr: string }>;
}

/** Starts `jimeng worker` and resolves once it printed its JSON document (it takes jobs by then). */
export async function startWorker(options: {
  redisUrl: string;
  prefix: string;
  data: string;
  emulator: RunningEmulator;
  configDir: string;
  args?: readonly string[];
  /** Longest pause between two polls (default 20ms: the tests' tasks take milliseconds). */
  pollInterval?: string;
  /** Changes to the worker's environment; an undefined value removes the variable (e.g. a credential). */
  env?: NodeJS.ProcessEnv;
}): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...emulatorEnv(options.emulator, options.configDir),
    JIMENG_POLL_INTERVAL: options.pollInterval ?? "20ms",
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const run = runCli(
    [
      "--json",
      "worker",
      "--redis",
      options.redisUrl,
      "--redis-prefix",
      options.prefix,
      "--data",
      options.data,
      "--stall-timeout",
      "500ms",
      ...(options.args ?? []),
    ],
    { env, cwd: options.configDir },
  );
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (run.stdout().includes("\n")) {
        run.child.stdout?.off("data", check);
        resolve();
      }
    };
    run.child.stdout?.on("data", check);
    void run.exited.then((exit) => reject(new Error(`jimeng worker exited (${exit.code}): ${exit.stderr}`)));
  });
  return {
    run,
    async stop(hard = false) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill(hard ? "SIGKILL" : "SIGTERM");
      }
      const exit = await run.exited;
      return { code: exit.code, stderr: exit.stderr };
    },
  };
}
