import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import {
  canonicalHeaders,
  canonicalQueryString,
  deriveSigningKey,
  formatXDate,
  hashPayload,
  SigningKeyCache,
  uriEscape,
  VolcSigner,
} from "../../src/signing/volc-signer.js";

const SECRET = "super-secret-key-value==";

describe("signer steps", () => {
  it("formats X-Date as YYYYMMDDTHHMMSSZ in UTC", () => {
    expect(formatXDate(new Date("2026-01-02T03:04:05.678Z"))).toBe("20260102T030405Z");
  });

  it("hashes absent and empty bodies to the empty SHA-256 and strings as UTF-8", () => {
    const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    expect(hashPayload(undefined)).toBe(empty);
    expect(hashPayload("")).toBe(empty);
    expect(hashPayload("你好")).toBe(hashPayload(Buffer.from("你好", "utf8")));
  });

  it("escapes per RFC 3986 with upper-case hex, keeping only A-Z a-z 0-9 - _ . ~", () => {
    expect(uriEscape("a b~c*d!e'f(g)h+=&/?")).toBe("a%20b~c%2Ad%21e%27f%28g%29h%2B%3D%26%2F%3F");
    expect(uriEscape("你")).toBe("%E4%BD%A0");
  });

  it("rejects a lone UTF-16 surrogate with a ValidationError instead of dropping the key", () => {
    expect(() => canonicalQueryString({ bad: "\ud800" })).toThrow(ValidationError);
  });

  it("sorts query keys in byte order (upper case first, integer-like keys in place) and drops null values", () => {
    expect(canonicalQueryString({ b: "1", "9": "x", A: "2", a: null, Z: undefined, "&": "y" })).toBe(
      "%26=y&9=x&A=2&b=1",
    );
  });

  it("keeps repeated query values in their original order", () => {
    expect(canonicalQueryString({ k: ["b", "a"] })).toBe("k=b&k=a");
  });

  it("lower-cases, trims and sorts canonical headers", () => {
    const result = canonicalHeaders({ "X-Date": " 1 ", Host: "h", "X-Custom": "a   b" }, () => true);
    expect(result.canonical).toBe("host:h\nx-custom:a b\nx-date:1\n");
    expect(result.signedHeaders).toBe("host;x-custom;x-date");
  });
});

describe("signing-key cache", () => {
  it("returns the derived key and keeps at most maxEntries keys", () => {
    const cache = new SigningKeyCache(2);
    const key = cache.get(SECRET, "20260101", "cn-north-1", "cv");
    expect(key.bytes.equals(deriveSigningKey(SECRET, "20260101", "cn-north-1", "cv"))).toBe(true);
    cache.get(SECRET, "20260102", "cn-north-1", "cv");
    cache.get(SECRET, "20260103", "cn-north-1", "cv");
    expect(cache.size).toBe(2);
  });

  it("never uses the raw secret in its keys", () => {
    const cache = new SigningKeyCache();
    cache.get(SECRET, "20260101", "cn-north-1", "cv");
    expect(cache.keys().join("|")).not.toContain(SECRET);
  });

  it("keeps different secrets apart", () => {
    const cache = new SigningKeyCache();
    const a = cache.get("secret-a", "20260101", "cn-north-1", "cv");
    const b = cache.get("secret-b", "20260101", "cn-north-1", "cv");
    expect(a.bytes.equals(b.bytes)).toBe(false);
  });
});

describe("VolcSigner", () => {
  const signer = new VolcSigner({
    credentials: { accessKeyId: "AKLTx", secretAccessKey: SECRET, sessionToken: "sts-token-value" },
    region: "cn-north-1",
    service: "cv",
    clock: () => Date.parse("2026-01-02T03:04:05Z"),
  });

  it("signs content-type;host;x-content-sha256;x-date;x-security-token by default", () => {
    const signed = signer.sign({
      method: "POST",
      query: { Action: "CVProcess", Version: "2022-08-31" },
      headers: { host: "visual.volcengineapi.com", "content-type": "application/json", "user-agent": "x" },
      body: "{}",
    });
    expect(signed.signedHeaders).toBe("content-type;host;x-content-sha256;x-date;x-security-token");
    expect(signed.headers["X-Security-Token"]).toBe("sts-token-value");
    expect(signed.xDate).toBe("20260102T030405Z");
  });

  it("never shows the secret or the token when inspected or serialised", () => {
    const shown = `${inspect(signer, { depth: 5, showHidden: true })}${JSON.stringify(signer)}`;
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain("sts-token-value");
  });
});
