/**
 * Durations on the command line (`--timeout 90s`, `5m`, `1h30m`, `1500ms`; a bare number is seconds).
 * Pure; a bad value is a usage error that names the flag.
 */
import { ValidationError } from "../errors.js";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const BARE = /^\d+(?:\.\d+)?$/;

export interface DurationOptions {
  /** Accept zero (e.g. an added latency); timeouts must be positive. */
  allowZero?: boolean;
}

/** Milliseconds in `text` (a whole number), or undefined when it is not a duration. */
export function durationMs(text: string, options: DurationOptions = {}): number | undefined {
  const value = text.trim().toLowerCase();
  if (value === "") return undefined;
  let total: number;
  if (BARE.test(value)) {
    total = Number(value) * 1000;
  } else {
    total = 0;
    PART.lastIndex = 0;
    while (PART.lastIndex < value.length) {
      const match = PART.exec(value);
      if (!match) return undefined;
      total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    }
  }
  const ms = Math.round(total);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return ms > 0 || options.allowZero === true ? ms : undefined;
}

/** Like `durationMs`, but throws a ValidationError (exit code 2) naming `flag` when `text` is no duration. */
export function parseDuration(text: string, flag: string, options: DurationOptions = {}): number {
  const ms = durationMs(text, options);
  if (ms === undefined) {
    throw new ValidationError([
      {
        path: flag,
        message: `"${text}" is not a duration; use e.g. 90s, 5m, 1h30m, 1500ms, or a number of seconds`,
      },
    ]);
  }
  return ms;
}
