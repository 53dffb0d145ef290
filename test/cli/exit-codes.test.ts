import { describe, expect, it } from "vitest";
import { BatchLockedError } from "../../src/batch/lock.js";
import { ConfigError, EXIT, exitCodeFor } from "../../src/cli/exit-codes.js";
import {
  AbortError,
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  JimengError,
  NetworkError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from "../../src/errors.js";

const api = { provider: "visual" as const, httpStatus: 400, code: 1 };

describe("exitCodeFor", () => {
  it.each([
    ["ValidationError", new ValidationError([{ path: "ratio", message: "bad" }]), EXIT.usage],
    ["AuthError", new AuthError("bad signature", { ...api, httpStatus: 401 }), EXIT.auth],
    ["ConfigError", new ConfigError("no credentials"), EXIT.auth],
    ["a JimengError with the config code", new JimengError("x", { code: "CONFIG_ERROR" }), EXIT.auth],
    ["TimeoutError", new TimeoutError("too slow", { taskId: "t" }), EXIT.timeout],
    ["AbortError", new AbortError(), EXIT.interrupted],
    ["BatchLockedError", new BatchLockedError("out/.jimeng/lock", undefined), EXIT.locked],
    ["ApiError", new ApiError("server said no", api), EXIT.failed],
    ["ContentPolicyError", new ContentPolicyError("rejected", api), EXIT.failed],
    ["InsufficientCreditsError", new InsufficientCreditsError("no credits", api), EXIT.failed],
    ["RateLimitError", new RateLimitError("slow down", { ...api, httpStatus: 429 }), EXIT.failed],
    ["NetworkError", new NetworkError("reset", { notSent: false }), EXIT.failed],
    ["a plain Error", new Error("boom"), EXIT.failed],
    ["a thrown string", "boom", EXIT.failed],
  ])("maps %s to its exit code", (_name, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it("uses the contract's numbers", () => {
    expect(EXIT).toEqual({
      ok: 0,
      failed: 1,
      usage: 2,
      auth: 3,
      timeout: 4,
      locked: 5,
      interrupted: 130,
      terminated: 143,
    });
  });
});
