import { describe, expect, it } from "vitest";
import { durationMs, parseDuration } from "../../src/cli/duration.js";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { ValidationError } from "../../src/errors.js";

describe("durations", () => {
  it.each([
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1500ms", 1500],
    ["1h30m", 5_400_000],
    ["2m30s", 150_000],
    ["1.5s", 1500],
    ["45", 45_000],
    ["0.25", 250],
    [" 10S ", 10_000],
  ])("reads %s as %i ms", (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  it.each(["", "abc", "5x", "-5s", "s", "5 m", "1h-30m", "0", "0s"])("rejects %j", (text) => {
    expect(durationMs(text)).toBeUndefined();
  });

  it("accepts zero only when asked to", () => {
    expect(durationMs("0ms", { allowZero: true })).toBe(0);
    expect(durationMs("0ms")).toBeUndefined();
  });

  it("a bad value is a usage error (exit 2) that names the flag", () => {
    let error: unknown;
    try {
      parseDuration("5x", "--timeout");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: "--timeout", message: expect.stringContaining('"5x" is not a duration') },
    ]);
    expect(exitCodeFor(error)).toBe(2);
  });
});
