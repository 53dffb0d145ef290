import { describe, expect, it } from "vitest";
import { verifySignature } from "../../src/signing/verify.js";
import { VolcSigner } from "../../src/signing/volc-signer.js";

const credentials = { accessKeyId: "AKLTverify", secretAccessKey: "verify-secret" };
const NOW = Date.parse("2026-01-02T03:04:05Z");
const signer = new VolcSigner({ credentials, region: "cn-north-1", service: "cv", clock: () => NOW });

function signedRequest(body = '{"req_key":"jimeng_t2i_v40","prompt":"雪"}') {
  const url = new URL("http://127.0.0.1:8080/?Action=CVSync2AsyncSubmitTask&Version=2022-08-31");
  const headers: Record<string, string> = { host: url.host, "content-type": "application/json" };
  const signed = signer.sign({
    method: "POST",
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  });
  const lower: Record<string, string> = { ...headers };
  for (const [name, value] of Object.entries(signed.headers)) lower[name.toLowerCase()] = value;
  return { method: "POST", url, headers: lower, body: Buffer.from(body, "utf8") };
}

function verify(request: ReturnType<typeof signedRequest>, now = NOW) {
  return verifySignature({ ...request, credentials, now, region: "cn-north-1", service: "cv" });
}

describe("verifySignature", () => {
  it("accepts a request signed by the project's signer", () => {
    expect(verify(signedRequest())).toEqual({ ok: true });
  });

  it("rejects a tampered body", () => {
    const request = signedRequest();
    request.body = Buffer.from('{"req_key":"jimeng_t2i_v40","prompt":"fox"}');
    expect(verify(request)).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("rejects a tampered body even when X-Content-Sha256 was recomputed", () => {
    const request = signedRequest();
    const other = signedRequest('{"prompt":"other"}');
    request.body = other.body;
    request.headers["x-content-sha256"] = other.headers["x-content-sha256"] as string;
    expect(verify(request)).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("rejects a tampered query", () => {
    const request = signedRequest();
    request.url.searchParams.set("Action", "CVProcess");
    expect(verify(request)).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("rejects a tampered signed header value", () => {
    const request = signedRequest();
    request.headers["content-type"] = "text/plain";
    expect(verify(request)).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });

  it("rejects a signature more than 15 minutes old as InvalidTimestamp", () => {
    expect(verify(signedRequest(), NOW + 16 * 60_000)).toMatchObject({ ok: false, code: "InvalidTimestamp" });
    expect(verify(signedRequest(), NOW + 14 * 60_000)).toEqual({ ok: true });
  });

  it("rejects an unknown access key and a missing Authorization header", () => {
    const request = signedRequest();
    const wrongKey = verifySignature({
      ...request,
      credentials: { ...credentials, accessKeyId: "AKLTother" },
      now: NOW,
      region: "cn-north-1",
      service: "cv",
    });
    expect(wrongKey).toMatchObject({ ok: false, code: "InvalidAccessKey" });
    delete (request.headers as Record<string, string | undefined>).authorization;
    expect(verify(request)).toMatchObject({ ok: false, code: "MissingAuthenticationToken" });
  });

  it("rejects a signature made with another secret", () => {
    const request = signedRequest();
    const result = verifySignature({
      ...request,
      credentials: { ...credentials, secretAccessKey: "another-secret" },
      now: NOW,
      region: "cn-north-1",
      service: "cv",
    });
    expect(result).toMatchObject({ ok: false, code: "SignatureDoesNotMatch" });
  });
});
