/**
 * kill -9 at random moments, then `--resume`, against an emulator that outlives every killed CLI. Whatever the
 * moment, every job ends done, and the only tasks submitted twice are jobs whose submit was in flight (journal
 * state `submitting`) at a kill. The emulator holds every submit's answer a while after creating its task
 * (`submitDelayMs`), and a third of the kills land exactly then — a task paid for upstream, its id not yet
 * recorded — so the bound is tested with submits really in flight. Quick by default (3 kills);
 * `JIMENG_LONG=1` (npm run test:resilience) runs 20.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replayJournal } from "../../src/batch/journal.js";
import { seededRandom } from "../../src/emulator/random.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorEnv, runCli, tempDir, whenStderr } from "../helpers/cli.js";
import { summary } from "./helpers.js";

const LONG = process.env.JIMENG_LONG === "1";
const KILLS = LONG ? 20 : 3;
const JOBS = LONG ? 40 : 15;
const CONCURRENCY = 5;
const SUBMIT_DELAY_MS = 400;

/** Resolves true once `predicate` holds (checked every few ms), false after `timeoutMs`. */
function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve(true);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        resolve(false);
      }
    }, 5);
  });
}

let emulator: RunningEmulator;
let work: { dir: string; cleanup(): Promise<void> };

beforeEach(async () => {
  emulator = await startEmulator({
    durations: { image: [200, 1500] },
    submitDelayMs: SUBMIT_DELAY_MS,
    faults: { download: { truncate: 0.1 } },
  });
  work = await tempDir("jimeng-batch-kill-");
});

afterEach(async () => {
  await emulator.stop();
  await work.cleanup();
});

describe("jimeng batch killed with SIGKILL and resumed", () => {
  it(`finishes every job after ${KILLS} kills, submitting twice only what was in flight at a kill`, {
    timeout: 30_000 + KILLS * 5_000,
  }, async () => {
    const { writeFile } = await import("node:fs/promises");
    const file = path.join(work.dir, "jobs.txt");
    await writeFile(file, Array.from({ length: JOBS }, (_, index) => `kill test prompt ${index}`).join("\n"));
    const env = emulatorEnv(emulator, path.join(work.dir, "config"));
    const args = ["batch", file, "-o", "out", "-c", String(CONCURRENCY), "-m", "jimeng_t2i_v31"];
    const seed = Number(process.env.JIMENG_KILL_SEED ?? 4242);
    const random = seededRandom(seed);

    let inFlightAtKills = 0;
    let midSubmitKills = 0;
    const submissionsSeen = new Map<string, number>();
    for (let kill = 0; kill < KILLS; kill++) {
      const tasksBefore = emulator.counters.tasks;
      const run = runCli(kill === 0 ? args : [...args, "--resume"], { env, cwd: work.dir });
      // A third of the kills while a submit's task exists upstream and its answer is held (its journal entry
      // says `submitting`); a third at a random time (mostly during waits and downloads: each job waits ≥ 5 s
      // for its model's first poll); a third right after a random one of the first submits was recorded,
      // while the rest of its wave is in flight.
      const delay = 300 + Math.floor(random() * 2700);
      const afterSubmits = 1 + Math.floor(random() * 3);
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), delay));
      const mode = kill % 3;
      const moment =
        mode === 0
          ? until(() => emulator.counters.tasks > tasksBefore, 10_000).then((landed) => {
              if (landed) midSubmitKills++;
              return landed;
            })
          : mode === 1
            ? timer
            : Promise.race([
                whenStderr(run, (text) => (text.match(/submitted \(task/g) ?? []).length >= afterSubmits),
                timer,
              ]);
      const finished = await Promise.race([run.exited.then(() => true), moment.then(() => false)]);
      expect(finished, `the batch ended before the kill: ${run.stderr()}`).toBe(false);
      run.child.kill("SIGKILL");
      await run.exited;
      const { state } = await replayJournal(path.join(work.dir, "out"));
      // Submits started by this run and unanswered at its kill (a job left `submitting` by an earlier run and
      // not touched by this one is not counted twice).
      for (const entry of state.values()) {
        if (entry.status === "submitting" && entry.submissions > (submissionsSeen.get(entry.jobId) ?? 0)) {
          inFlightAtKills++;
        }
        submissionsSeen.set(entry.jobId, entry.submissions);
      }
    }

    const last = await runCli([...args, "--resume"], { env, cwd: work.dir }).exited;
    expect(last.code, last.stderr).toBe(0);
    const { state } = await replayJournal(path.join(work.dir, "out"));
    expect([...state.values()].filter((entry) => entry.status === "succeeded")).toHaveLength(JOBS);
    const counts = Object.values(emulator.counters.tasksByPrompt);
    expect(counts).toHaveLength(JOBS);
    const duplicates = counts.reduce((sum, count) => sum + count - 1, 0);
    summary(
      `crash-loop: ${JOBS} jobs, ${KILLS} kill -9, ${[...state.values()].filter((e) => e.status === "succeeded").length} done, ` +
        `${duplicates} duplicate submits (≤ ${inFlightAtKills} submits in flight at the kills; ${midSubmitKills} kills mid-submit), seed ${seed}`,
    );
    expect(midSubmitKills).toBeGreaterThan(0);
    expect(inFlightAtKills).toBeGreaterThan(0);
    expect(duplicates, `seed ${seed}`).toBeLessThanOrEqual(inFlightAtKills);
  });
});
