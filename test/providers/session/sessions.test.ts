import { describe, expect, it } from "vitest";
import {
  parseSessionToken,
  SessionPool,
  sessionHash,
  splitSessionIds,
} from "../../../src/providers/session/sessions.js";

describe("parseSessionToken", () => {
  it("reads the region prefix case-insensitively and defaults to CN", () => {
    expect(parseSessionToken("abc123").region).toBe("cn");
    expect(parseSessionToken("US-abc123").region).toBe("us");
    expect(parseSessionToken("hk-abc").region).toBe("hk");
    expect(parseSessionToken("Jp-abc").region).toBe("jp");
    expect(parseSessionToken("sg-abc").region).toBe("sg");
    expect(parseSessionToken("eu-abc").region).toBe("cn");
  });

  it("tolerates a proxy prefix, splitting at the last @, and keeps the whole token for the header", () => {
    const parsed = parseSessionToken(" http://user:pass@10.0.0.1:8080@us-abc ");
    expect(parsed).toEqual({ token: "http://user:pass@10.0.0.1:8080@us-abc", region: "us", proxied: true });
    expect(parseSessionToken("socks5://127.0.0.1:1080@sg-xyz").region).toBe("sg");
  });
});

describe("splitSessionIds", () => {
  it("accepts a comma-separated string or a list, dropping blanks", () => {
    expect(splitSessionIds(" a , b,,c ")).toEqual(["a", "b", "c"]);
    expect(splitSessionIds(["a,b", " c "])).toEqual(["a", "b", "c"]);
  });
});

describe("SessionPool", () => {
  it("names sessions by position and region, never by their id", () => {
    const pool = new SessionPool("secret-one,us-secret-two");
    expect(pool.entries.map((e) => e.label)).toEqual(["session #1 (cn)", "session #2 (us)"]);
    expect(pool.entries[1]?.hash).toBe(sessionHash("us-secret-two"));
    expect(pool.entries[1]?.hash).not.toContain("secret");
  });

  it("hands out sessions round-robin", () => {
    const pool = new SessionPool(["rr-a", "rr-b", "rr-c"]);
    expect([1, 2, 3, 4].map(() => pool.next()?.label)).toEqual([
      "session #1 (cn)",
      "session #2 (cn)",
      "session #3 (cn)",
      "session #1 (cn)",
    ]);
  });

  it("skips an expired session from then on, in every pool of the process", () => {
    const pool = new SessionPool(["skip-a", "skip-b"]);
    pool.markExpired(pool.entries[0]!);
    expect([1, 2, 3].map(() => pool.next()?.index)).toEqual([1, 1, 1]);
    expect(new SessionPool(["skip-a", "skip-c"]).next()?.label).toBe("session #2 (cn)");
  });

  it("filters by a predicate (region checks) and reports when nothing fits", () => {
    const pool = new SessionPool(["cn-only", "us-x"]);
    expect(pool.next((e) => e.region === "us")?.label).toBe("session #2 (us)");
    expect(pool.next((e) => e.region === "jp")).toBeUndefined();
  });

  it("refuses an empty list with a hint on where to find a sessionid", () => {
    expect(() => new SessionPool(" , ")).toThrow(/at least one session id/);
  });
});
