/**
 * Polling schedule benchmark, in virtual time: the real `waitForTask` loop with a fake clock and sleep, and a
 * fake provider whose task finishes at a known instant. A seeded mix of image (5–30 s) and video (30–180 s)
 * tasks is waited for twice: with the project's schedule, and with a fixed 1 s poller. Reported: total polls,
 * and the median detection latency (server done → client knows), absolute and relative to the task's duration.
 */
import { seededRandom } from "../../src/emulator/random.js";
import type { ModelCapability, Provider, TaskRef, TaskStatus } from "../../src/providers/types.js";
import type { PollSchedule } from "../../src/tasks/backoff.js";
import { type Sleep, waitForTask } from "../../src/tasks/wait.js";
import { FIXED_1S } from "./baselines.js";
import type { Bench, BenchFigure } from "./types.js";

type Priors = Pick<ModelCapability, "id" | "output" | "expectedSeconds">;

const IMAGE: Priors = { id: "bench-image", output: "image", expectedSeconds: { min: 5, typical: 15 } };
const VIDEO: Priors = { id: "bench-video", output: "video", expectedSeconds: { min: 30, typical: 90 } };
const EPOCH = Date.parse("2026-01-01T00:00:00Z");

interface SimTask {
  model: Priors;
  durationMs: number;
}

interface Outcome {
  output: "image" | "video";
  polls: number;
  latencyMs: number;
  durationMs: number;
}

/**
 * A seeded mix: about two image tasks for each video task (or images only), durations uniform in their ranges.
 */
export function taskMix(count: number, seed = 20_260_101, videoShare = 0.35): SimTask[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const video = random() < videoShare;
    const [min, max] = video ? [30, 180] : [5, 30];
    return { model: video ? VIDEO : IMAGE, durationMs: Math.round((min + (max - min) * random()) * 1000) };
  });
}

/** Waits for one simulated task with the real loop; virtual time only. */
async function simulate(task: SimTask, schedule: PollSchedule | undefined, random: () => number) {
  let now = EPOCH;
  const doneAt = EPOCH + task.durationMs;
  const ref: TaskRef = {
    provider: "session",
    taskId: "bench",
    model: task.model.id,
    kind: task.model.output === "video" ? "video" : "generate",
    submittedAt: new Date(EPOCH).toISOString(),
  };
  let polls = 0;
  const model = { ...task.model } as ModelCapability;
  const provider: Provider = {
    name: "session",
    models: [model],
    resolveModel: () => model,
    submit: async () => ref,
    get: async (): Promise<TaskStatus> => {
      polls++;
      return now >= doneAt
        ? { ref, status: "succeeded", outputs: [{ url: "http://127.0.0.1/out" }] }
        : { ref, status: "running", outputs: [] };
    },
    close: async () => {},
  };
  const sleep: Sleep = async (ms) => {
    now += ms;
  };
  await waitForTask(
    provider,
    ref,
    { timeout: Number.POSITIVE_INFINITY },
    { clock: { now: () => now }, sleep, random, model, ...(schedule ? { schedule } : {}) },
  );
  return {
    output: task.model.output,
    polls,
    latencyMs: now - doneAt,
    durationMs: task.durationMs,
  } satisfies Outcome;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface PollingSummary {
  polls: number;
  /** Mean polls per task of each output kind. */
  pollsPerImage: number;
  pollsPerVideo: number;
  medianLatencyS: number;
  /** Median of latency ÷ duration, in %. */
  medianRelativePct: number;
  /** Median of latency ÷ max(0.5 s, 10 % of duration); ≤ 1 meets the target. */
  medianBudgetShare: number;
}

function meanPolls(outcomes: Outcome[]): number {
  return outcomes.length ? outcomes.reduce((sum, outcome) => sum + outcome.polls, 0) / outcomes.length : 0;
}

function summarise(outcomes: Outcome[]): PollingSummary {
  return {
    polls: outcomes.reduce((sum, outcome) => sum + outcome.polls, 0),
    pollsPerImage: meanPolls(outcomes.filter((o) => o.output === "image")),
    pollsPerVideo: meanPolls(outcomes.filter((o) => o.output === "video")),
    medianLatencyS: median(outcomes.map((o) => o.latencyMs / 1000)),
    medianRelativePct: median(outcomes.map((o) => (100 * o.latencyMs) / o.durationMs)),
    medianBudgetShare: median(outcomes.map((o) => o.latencyMs / Math.max(500, 0.1 * o.durationMs))),
  };
}

/** Both pollers over the same task mix. */
export async function comparePollers(
  count: number,
  videoShare = 0.35,
): Promise<{ project: PollingSummary; fixed: PollingSummary }> {
  const tasks = taskMix(count, undefined, videoShare);
  const jitter = seededRandom(7);
  const project: Outcome[] = [];
  const fixed: Outcome[] = [];
  for (const task of tasks) {
    project.push(await simulate(task, undefined, jitter));
    fixed.push(await simulate(task, FIXED_1S, jitter));
  }
  return { project: summarise(project), fixed: summarise(fixed) };
}

/** Image tasks alone (5–30 s): the workload where a 1 s floor costs the most polls relative to a 1 s poller. */
async function imageOnlyRows(count: number): Promise<BenchFigure[]> {
  const { project, fixed } = await comparePollers(count, 0);
  const suite = "polling";
  const baselineName = "fixed 1 s poller";
  const note = `${count} simulated image tasks of 5–30 s, virtual time`;
  const ratio = project.polls / fixed.polls;
  return [
    {
      suite,
      name: "image-only: total polls",
      value: project.polls,
      unit: "polls",
      baseline: { name: baselineName, value: fixed.polls },
      ratio: round(ratio),
      target: "≤ 0.5×",
      met: ratio <= 0.5,
      note,
    },
    {
      suite,
      name: "image-only: median latency / max(0.5 s, 10 % of duration)",
      value: round(project.medianBudgetShare),
      unit: "×",
      baseline: { name: baselineName, value: round(fixed.medianBudgetShare) },
      target: "≤ 1",
      met: project.medianBudgetShare <= 1,
      note: `median detection latency ${round(project.medianLatencyS)} s (${round(project.medianRelativePct, 1)} % of the duration)`,
    },
  ];
}

export const run: Bench = async ({ quick }) => {
  const count = quick ? 40 : 400;
  const { project, fixed } = await comparePollers(count);
  const suite = "polling";
  const baselineName = "fixed 1 s poller";
  const note = `${count} simulated tasks (≈65 % images 5–30 s, 35 % video 30–180 s), virtual time`;
  const pollRatio = project.polls / fixed.polls;
  return [
    {
      suite,
      name: "total polls",
      value: project.polls,
      unit: "polls",
      baseline: { name: baselineName, value: fixed.polls },
      ratio: round(pollRatio),
      target: "≤ 0.5×",
      met: pollRatio <= 0.5,
      note,
    },
    ...(["image", "video"] as const).map((kind): BenchFigure => {
      const ours = kind === "image" ? project.pollsPerImage : project.pollsPerVideo;
      const theirs = kind === "image" ? fixed.pollsPerImage : fixed.pollsPerVideo;
      return {
        suite,
        name: `polls per ${kind} task (mean)`,
        value: round(ours, 1),
        unit: "polls",
        baseline: { name: baselineName, value: round(theirs, 1) },
        ratio: round(ours / theirs),
      };
    }),
    {
      suite,
      name: "median detection latency",
      value: round(project.medianLatencyS),
      unit: "s",
      baseline: { name: baselineName, value: round(fixed.medianLatencyS) },
      ratio: round(project.medianLatencyS / fixed.medianLatencyS),
    },
    {
      suite,
      name: "median detection latency / duration",
      value: round(project.medianRelativePct, 1),
      unit: "%",
      baseline: { name: baselineName, value: round(fixed.medianRelativePct, 1) },
      ratio: round(project.medianRelativePct / fixed.medianRelativePct),
      target: "≤ 10 %",
      met: project.medianRelativePct <= 10,
    },
    {
      suite,
      name: "median latency / max(0.5 s, 10 % of duration)",
      value: round(project.medianBudgetShare),
      unit: "×",
      baseline: { name: baselineName, value: round(fixed.medianBudgetShare) },
      target: "≤ 1",
      met: project.medianBudgetShare <= 1,
    },
    ...(await imageOnlyRows(count)),
  ] satisfies BenchFigure[];
};
