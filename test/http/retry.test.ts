import { describe, expect, it } from "vitest";
import { isRetryable, parseRetryAfter, retryDelay } from "../../src/http/retry.js";

const headers = (values: Record<string, string>) => (name: string) => values[name];

describe("isRetryable", () => {
  it("retries a safe operation on network errors, 408, 429 and 5xx", () => {
    expect(isRetryable({ kind: "network", notSent: false }, true)).toBe(true);
    for (const status of [408, 429, 500, 502, 503]) {
      expect(isRetryable({ kind: "response", status, throttled: false }, true)).toBe(true);
    }
  });

  it("does not retry a safe operation on other 4xx unless the provider marks the code retryable", () => {
    expect(isRetryable({ kind: "response", status: 400, throttled: false }, true)).toBe(false);
    expect(isRetryable({ kind: "response", status: 401, throttled: false }, true)).toBe(false);
    expect(isRetryable({ kind: "response", status: 200, throttled: false, retryableCode: true }, true)).toBe(
      true,
    );
  });

  it("retries an unsafe operation only when it provably never reached the server", () => {
    expect(isRetryable({ kind: "network", notSent: true, code: "ECONNREFUSED" }, false)).toBe(true);
    expect(isRetryable({ kind: "network", notSent: false, code: "ECONNRESET" }, false)).toBe(false);
    expect(isRetryable({ kind: "response", status: 500, throttled: false }, false)).toBe(false);
    expect(isRetryable({ kind: "response", status: 502, throttled: false, retryableCode: true }, false)).toBe(
      false,
    );
  });

  it("retries an unsafe operation when the server said it was throttled", () => {
    expect(isRetryable({ kind: "response", status: 429, throttled: true }, false)).toBe(true);
    expect(isRetryable({ kind: "response", status: 200, throttled: true }, false)).toBe(true);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-02T03:04:05Z");

  it("prefers retry-after-ms", () => {
    expect(parseRetryAfter(headers({ "retry-after-ms": "1500", "retry-after": "9" }), now)).toBe(1500);
  });

  it("reads Retry-After as seconds", () => {
    expect(parseRetryAfter(headers({ "retry-after": "3" }), now)).toBe(3000);
    expect(parseRetryAfter(headers({ "retry-after": "0.5" }), now)).toBe(500);
  });

  it("reads Retry-After as an HTTP date", () => {
    expect(parseRetryAfter(headers({ "retry-after": "Fri, 02 Jan 2026 03:04:15 GMT" }), now)).toBe(10_000);
  });

  it("ignores hints that are zero, negative, past, over 60 s or garbage", () => {
    for (const value of ["0", "-1", "61", "Fri, 02 Jan 2026 03:00:00 GMT", "soon", ""]) {
      expect(parseRetryAfter(headers({ "retry-after": value }), now)).toBeUndefined();
    }
    expect(parseRetryAfter(headers({ "retry-after-ms": "60001" }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });
});

describe("retryDelay", () => {
  it("doubles from 0.5 s and caps at 8 s without jitter", () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => retryDelay(n, undefined, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
  });

  it("takes off at most a quarter as jitter", () => {
    expect(retryDelay(2, undefined, () => 1)).toBe(1500);
    expect(retryDelay(2, undefined, () => 0.5)).toBe(1750);
  });

  it("uses a valid server hint as is", () => {
    expect(retryDelay(0, 12_000, () => 0)).toBe(12_000);
    expect(retryDelay(0, 90_000, () => 0)).toBe(500);
  });
});
