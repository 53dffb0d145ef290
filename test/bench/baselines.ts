import type { PollSchedule } from "../../src/tasks/backoff.js";

/** The naive baseline the polling figures compare against: one poll a second from the start, no jitter. */
export const FIXED_1S: PollSchedule = {
  firstMs: 1000,
  floorMs: 1000,
  minIntervalMs: 1000,
  capMs: 1000,
  fraction: 0,
  jitter: 0,
};
