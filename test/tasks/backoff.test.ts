import { describe, expect, it } from "vitest";
import {
  IMAGE_CAP_MS,
  MAX_HINT_MS,
  nextPollDelay,
  POLL_FLOOR_MS,
  type PollSchedule,
  pollSchedule,
  VIDEO_CAP_MS,
} from "../../src/tasks/backoff.js";

const image = pollSchedule({ output: "image", expectedSeconds: { min: 8, typical: 20 } });
const video = pollSchedule({ output: "video", expectedSeconds: { min: 40, typical: 120 } });
const noJitter = () => 0;
const fullJitter = () => 0.999_999;

/** The delays of a whole wait without jitter: poll, then wait the schedule's delay, until `untilMs`. */
function delays(schedule: PollSchedule, untilMs: number): number[] {
  const out: number[] = [];
  let elapsed = 0;
  for (let polls = 0; elapsed < untilMs; polls++) {
    const delay = nextPollDelay(schedule, { elapsedMs: elapsed, polls }, noJitter);
    out.push(delay);
    elapsed += delay;
  }
  return out;
}

describe("poll schedule", () => {
  it("makes the first poll when the model's shortest plausible duration has passed", () => {
    expect(nextPollDelay(image, { elapsedMs: 0, polls: 0 })).toBe(8_000);
    expect(nextPollDelay(video, { elapsedMs: 0, polls: 0 })).toBe(40_000);
  });

  it("polls at once when a resumed wait starts after the prior", () => {
    expect(nextPollDelay(image, { elapsedMs: 60_000, polls: 0 })).toBe(0);
    expect(nextPollDelay(image, { elapsedMs: 5_000, polls: 0 })).toBe(3_000);
  });

  it("never shortens the interval as the task ages", () => {
    const intervals = delays(video, 3_600_000).slice(1);
    for (let i = 1; i < intervals.length; i++) {
      expect(intervals[i]).toBeGreaterThanOrEqual(intervals[i - 1] as number);
    }
    expect(intervals.at(-1)).toBeGreaterThan(intervals[0] as number);
  });

  it("keeps the interval near 20 % of the elapsed time for images, 8 % for video, at least a second and at most the cap", () => {
    expect(nextPollDelay(image, { elapsedMs: 4_000, polls: 1 }, noJitter)).toBe(1_000);
    expect(nextPollDelay(image, { elapsedMs: 8_000, polls: 1 }, noJitter)).toBe(1_600);
    expect(nextPollDelay(image, { elapsedMs: 50_000, polls: 3 }, noJitter)).toBe(10_000);
    expect(nextPollDelay(video, { elapsedMs: 100_000, polls: 3 }, noJitter)).toBe(8_000);
  });

  it("never polls faster than the floor, even right after submission with full jitter", () => {
    for (const elapsedMs of [0, 100, 1_000, 6_000, 8_000]) {
      expect(nextPollDelay(image, { elapsedMs, polls: 1 }, fullJitter)).toBeGreaterThanOrEqual(POLL_FLOOR_MS);
    }
  });

  it("caps the interval at 15 s for images and 30 s for video", () => {
    const hours = 5 * 3_600_000;
    expect(nextPollDelay(image, { elapsedMs: hours, polls: 50 }, noJitter)).toBe(IMAGE_CAP_MS);
    expect(nextPollDelay(video, { elapsedMs: hours, polls: 50 }, noJitter)).toBe(VIDEO_CAP_MS);
    expect(IMAGE_CAP_MS).toBe(15_000);
    expect(VIDEO_CAP_MS).toBe(30_000);
  });

  it("honours a server hint over the schedule, within the floor and one minute", () => {
    const state = { elapsedMs: 100_000, polls: 4 };
    expect(nextPollDelay(video, { ...state, hintMs: 2_500 }, fullJitter)).toBe(2_500);
    expect(nextPollDelay(video, { ...state, hintMs: 45_000 }, noJitter)).toBe(45_000);
    expect(nextPollDelay(video, { ...state, hintMs: 10 }, noJitter)).toBe(POLL_FLOOR_MS);
    expect(nextPollDelay(video, { ...state, hintMs: 3_600_000 }, noJitter)).toBe(MAX_HINT_MS);
  });

  it("ignores a hint that is not a positive number", () => {
    const state = { elapsedMs: 100_000, polls: 4 };
    for (const hintMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(nextPollDelay(video, { ...state, hintMs }, noJitter)).toBe(8_000);
    }
  });

  it("jitter only shortens an interval, by at most a fifth", () => {
    const state = { elapsedMs: 100_000, polls: 4 };
    const base = nextPollDelay(video, state, noJitter);
    const values = [0, 0.25, 0.5, 0.75, 0.999].map((r) => nextPollDelay(video, state, () => r));
    for (const value of values) {
      expect(value).toBeLessThanOrEqual(base);
      expect(value).toBeGreaterThanOrEqual(base * 0.8);
    }
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it("spends far fewer polls than a 1 s poller on a three-minute video", () => {
    expect(delays(video, 180_000).length).toBeLessThan(180 / 4);
  });
});
