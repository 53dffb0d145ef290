import { describe, expect, it } from "vitest";
import { Scrubber } from "../../src/cli/output.js";
import { secretForms } from "../../src/http/redact.js";

const SECRET = "sts-TOKEN/with+odd=chars é";

describe("secretForms / Scrubber", () => {
  it("removes a secret written raw, percent-encoded (either case) and base64 (either alphabet)", () => {
    const scrubber = new Scrubber();
    scrubber.add(SECRET);
    const percent = encodeURIComponent(SECRET);
    for (const leak of [
      SECRET,
      percent,
      percent.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      Buffer.from(SECRET).toString("base64"),
      Buffer.from(SECRET).toString("base64url"),
    ]) {
      expect(scrubber.scrub(`before ${leak} after`)).not.toContain(leak.slice(2, -2));
    }
  });

  it("finds base64 copies inside longer encoded values, at each of the three alignments", () => {
    const scrubber = new Scrubber();
    scrubber.add(SECRET);
    for (const prefix of ["", "a", "ab", "token="]) {
      const encoded = Buffer.from(`${prefix}${SECRET}!`).toString("base64");
      const scrubbed = scrubber.scrub(encoded);
      expect(scrubbed).toContain("[redacted]");
      // What is left is at most the few characters that mix the secret with its neighbours.
      expect(scrubbed.replace("[redacted]", "").length).toBeLessThanOrEqual(
        Math.ceil(((prefix.length + 2) * 4) / 3) + 4,
      );
    }
  });

  it("ignores short secrets, so a stray letter does not blank the output", () => {
    expect(secretForms("ab").length).toBeGreaterThan(0);
    const scrubber = new Scrubber();
    scrubber.add("ab");
    expect(scrubber.scrub("abc")).toBe("abc");
  });
});
