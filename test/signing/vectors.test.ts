import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  deriveSigningKey,
  type SigningProfile,
  signRequest,
  VolcSigner,
} from "../../src/signing/volc-signer.js";

interface Vector {
  id: string;
  profile: SigningProfile;
  input: {
    method: string;
    path: string;
    query: Record<string, string>;
    headersGivenToSigner: Record<string, string>;
    body: string | null;
    sessionToken: string | null;
  };
  expected: {
    Authorization: string;
    "X-Date": string;
    "X-Content-Sha256": string | null;
    "X-Security-Token": string | null;
    canonicalQueryString: string;
    canonicalRequest: string;
    stringToSign: string;
    signature: string;
    signedHeaders: string;
  };
}

interface VectorFile {
  fixed: { accessKeyId: string; secretKey: string; date: string; region: string; service: string };
  derived: { kSigningHex: string };
  vectors: Vector[];
}

const file = JSON.parse(
  readFileSync(new URL("../fixtures/volc-sign-vectors.json", import.meta.url), "utf8"),
) as VectorFile;
const { fixed } = file;

function signVector(vector: Vector) {
  return signRequest(
    {
      method: vector.input.method,
      path: vector.input.path,
      query: vector.input.query,
      headers: vector.input.headersGivenToSigner,
      body: vector.input.body,
    },
    {
      credentials: {
        accessKeyId: fixed.accessKeyId,
        secretAccessKey: fixed.secretKey,
        ...(vector.input.sessionToken ? { sessionToken: vector.input.sessionToken } : {}),
      },
      region: fixed.region,
      service: fixed.service,
      date: new Date(fixed.date),
      profile: vector.profile,
    },
  );
}

describe("Volcengine signer against the 15 golden vectors", () => {
  it("has all 15 vectors to check", () => {
    expect(file.vectors).toHaveLength(15);
  });

  it("derives the vectors' signing key from the raw secret with no prefix", () => {
    const key = deriveSigningKey(fixed.secretKey, "20260102", fixed.region, fixed.service);
    expect(key.toString("hex")).toBe(file.derived.kSigningHex);
  });

  describe.each(file.vectors.map((vector) => [vector.id, vector] as const))("%s", (_id, vector) => {
    const signed = signVector(vector);

    it("builds the canonical query string", () => {
      expect(signed.canonicalQuery).toBe(vector.expected.canonicalQueryString);
    });
    it("builds the canonical request", () => {
      expect(signed.canonicalRequest).toBe(vector.expected.canonicalRequest);
    });
    it("builds the string to sign", () => {
      expect(signed.stringToSign).toBe(vector.expected.stringToSign);
    });
    it("computes the signature and signed headers", () => {
      expect(signed.signature).toBe(vector.expected.signature);
      expect(signed.signedHeaders).toBe(vector.expected.signedHeaders);
    });
    it("emits the Authorization, X-Date, X-Content-Sha256 and X-Security-Token headers", () => {
      expect(signed.headers.Authorization).toBe(vector.expected.Authorization);
      expect(signed.headers["X-Date"]).toBe(vector.expected["X-Date"]);
      expect(signed.headers["X-Content-Sha256"] ?? null).toBe(vector.expected["X-Content-Sha256"]);
      expect(signed.headers["X-Security-Token"] ?? null).toBe(vector.expected["X-Security-Token"]);
    });
  });

  it("a bound VolcSigner with an injected clock reproduces a vector", () => {
    const vector = file.vectors.find((v) => v.id === "doc-post-submit-ascii") as Vector;
    const signer = new VolcSigner({
      credentials: { accessKeyId: fixed.accessKeyId, secretAccessKey: fixed.secretKey },
      region: fixed.region,
      service: fixed.service,
      clock: () => Date.parse(fixed.date),
    });
    const signed = signer.sign({
      method: vector.input.method,
      query: vector.input.query,
      headers: vector.input.headersGivenToSigner,
      body: vector.input.body,
    });
    expect(signed.authorization).toBe(vector.expected.Authorization);
  });
});
