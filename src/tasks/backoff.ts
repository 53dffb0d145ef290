/**
 * When to poll a task next, as pure functions (no timers, no clock). The first poll comes when the model's
 * shortest plausible duration has passed (nothing can be ready earlier); after that the interval grows with
 * the task's age, so the time between "the server finished" and "the client knows" stays a small share of the
 * task's duration, while long tasks cost few polls. A server hint wins; nothing polls faster than the floor.
 */
import type { ModelCapability } from "../providers/types.js";

export interface PollSchedule {
  /** Delay of the first poll after submission: the model's shortest plausible duration. */
  firstMs: number;
  /** No two polls are closer than this, whatever the elapsed time, jitter or hint. */
  floorMs: number;
  /**
   * The shortest interval the schedule itself picks, before jitter (a server hint may go down to the floor).
   * Early in a task 8 % of the elapsed time is far below the 0.5 s anyone can notice; polling faster than
   * about once a second there costs polls and buys no perceptible latency.
   */
  minIntervalMs: number;
  /** The longest interval the schedule itself picks (a server hint may ask for more, up to `MAX_HINT_MS`). */
  capMs: number;
  /** Interval as a share of the time elapsed since submission. */
  fraction: number;
  /** Largest share jitter takes off an interval, in [0, 1). Jitter only ever shortens an interval. */
  jitter: number;
}

/** Never poll faster than this. */
export const POLL_FLOOR_MS = 500;
export const MIN_INTERVAL_MS = 1_000;
/** Server hints above this are cut to it. */
export const MAX_HINT_MS = 60_000;
export const IMAGE_CAP_MS = 15_000;
export const VIDEO_CAP_MS = 30_000;
/**
 * Interval ≈ 8 % of elapsed time. With a uniformly placed finish inside an interval, detection latency
 * averages half of it: ≈ 3–4 % of the task's duration (see test/bench/polling.ts for measured figures).
 */
export const POLL_FRACTION = 0.08;
/**
 * Images (5–30 s) poll at a larger share: with a 1 s floor, 8 % of a few seconds is below the floor anyway, so
 * most image polls were 1 s apart (0.75× a 1 s poller). At 20 % the interval still ends near 10 % of the
 * duration on average after jitter, and the poll count grows with log(duration), not with duration.
 */
export const IMAGE_POLL_FRACTION = 0.2;
export const POLL_JITTER = 0.2;

/** The schedule for a model, from its priors (`expectedSeconds.min`) and its output kind (the cap). */
export function pollSchedule(model: Pick<ModelCapability, "output" | "expectedSeconds">): PollSchedule {
  return {
    firstMs: Math.max(0, model.expectedSeconds.min * 1000),
    floorMs: POLL_FLOOR_MS,
    minIntervalMs: MIN_INTERVAL_MS,
    capMs: model.output === "video" ? VIDEO_CAP_MS : IMAGE_CAP_MS,
    fraction: model.output === "video" ? POLL_FRACTION : IMAGE_POLL_FRACTION,
    jitter: POLL_JITTER,
  };
}

export interface PollState {
  /** Time since the task was submitted, in ms. */
  elapsedMs: number;
  /** Polls already made (0: the next one is the first). */
  polls: number;
  /** The server's hint for the next poll (`retryAfterMs` on a queued/running status). */
  hintMs?: number | undefined;
}

/**
 * The interval the schedule picks at `elapsedMs`, before jitter: fraction × elapsed, within
 * [max(floor, minInterval), cap].
 */
export function baseInterval(schedule: PollSchedule, elapsedMs: number): number {
  const low = Math.max(schedule.floorMs, schedule.minIntervalMs);
  const cap = Math.max(low, schedule.capMs);
  return Math.min(cap, Math.max(low, schedule.fraction * Math.max(0, elapsedMs)));
}

/**
 * How long to wait before the next poll, in ms.
 * - first poll: at `firstMs` after submission (at once when that time has already passed, e.g. on resume);
 * - a usable server hint: the hint, within [floor, MAX_HINT_MS], without jitter;
 * - otherwise the base interval minus up to `jitter` of it, never below the floor.
 */
export function nextPollDelay(
  schedule: PollSchedule,
  state: PollState,
  random: () => number = Math.random,
): number {
  if (state.polls === 0) return Math.max(0, schedule.firstMs - state.elapsedMs);
  const hint = state.hintMs;
  if (hint !== undefined && Number.isFinite(hint) && hint > 0) {
    return Math.min(MAX_HINT_MS, Math.max(schedule.floorMs, hint));
  }
  const base = baseInterval(schedule, state.elapsedMs);
  const share = Math.min(1, Math.max(0, random()));
  return Math.max(schedule.floorMs, Math.round(base * (1 - schedule.jitter * share)));
}
