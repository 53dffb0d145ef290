/**
 * Server-side check of a signed request, as the Volcengine gateway does it: recompute the canonical request
 * from the headers named in SignedHeaders and compare signatures. Pure; used by the emulator and by tests.
 */
import { timingSafeEqual } from "node:crypto";
import {
  canonicalHeaderValue,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  hashPayload,
  SigningKeyCache,
  signatureOf,
  stringToSign,
} from "./volc-signer.js";

/** The Volcengine gateway's signature error codes the verifier can produce. */
export type SignatureFailure =
  | "MissingAuthenticationToken"
  | "MissingSignature"
  | "InvalidAccessKey"
  | "InvalidTimestamp"
  | "ServiceNotFound"
  | "SignatureDoesNotMatch";

export interface VerifyInput {
  method: string;
  url: URL;
  /** Lower-cased names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Server time (ms). */
  now: number;
  region: string;
  service: string;
  /** Largest accepted distance between X-Date and `now`; 15 minutes by default. */
  maxSkewMs?: number;
}

export type VerifyResult = { ok: true } | { ok: false; code: SignatureFailure; message: string };

export interface ParsedAuthorization {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/request, SignedHeaders=([a-z0-9;_-]+), Signature=([0-9a-f]{64})$/;

export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const match = AUTHORIZATION.exec(value.trim());
  if (!match) return undefined;
  const [, accessKeyId, shortDate, region, service, signed, signature] = match as unknown as string[];
  return {
    accessKeyId: accessKeyId as string,
    shortDate: shortDate as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signed as string).split(";"),
    signature: signature as string,
  };
}

/** `20260102T030405Z` → epoch ms, or undefined when malformed. */
export function parseXDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

const verifierCache = new SigningKeyCache(16);

function fail(code: SignatureFailure, message: string): VerifyResult {
  return { ok: false, code, message };
}

export function verifySignature(input: VerifyInput): VerifyResult {
  const authorization = input.headers.authorization;
  if (!authorization)
    return fail("MissingAuthenticationToken", "the request carries no Authorization header");
  const auth = parseAuthorization(authorization);
  if (!auth) return fail("MissingSignature", "the Authorization header is malformed");
  if (auth.accessKeyId !== input.credentials.accessKeyId)
    return fail("InvalidAccessKey", "the access key id is not valid");
  if (auth.service !== input.service) return fail("ServiceNotFound", `unknown service ${auth.service}`);

  const xDate = input.headers["x-date"];
  const signedAt = xDate === undefined ? undefined : parseXDate(xDate);
  if (xDate === undefined || signedAt === undefined)
    return fail("InvalidTimestamp", "X-Date is missing or malformed");
  if (Math.abs(input.now - signedAt) > (input.maxSkewMs ?? 15 * 60_000))
    return fail("InvalidTimestamp", "the signature has expired: X-Date is too far from the server time");
  if (auth.shortDate !== xDate.slice(0, 8) || auth.region !== input.region)
    return fail("SignatureDoesNotMatch", "the credential scope does not match the request");
  if (!auth.signedHeaders.includes("host") || !auth.signedHeaders.includes("x-date"))
    return fail("SignatureDoesNotMatch", "SignedHeaders must include host and x-date");

  const payloadHash = hashPayload(input.body);
  const claimed = input.headers["x-content-sha256"];
  if (claimed !== undefined && claimed !== payloadHash)
    return fail("SignatureDoesNotMatch", "X-Content-Sha256 does not match the body");

  let canonical = "";
  for (const name of auth.signedHeaders) {
    const value = input.headers[name];
    if (value === undefined) return fail("SignatureDoesNotMatch", `signed header ${name} is missing`);
    canonical += `${name}:${canonicalHeaderValue(value)}\n`;
  }
  const query: Record<string, string[]> = {};
  for (const [key, value] of input.url.searchParams) {
    const values = query[key] ?? [];
    values.push(value);
    query[key] = values;
  }

  const request = canonicalRequest({
    method: input.method,
    uri: canonicalUri(input.url.pathname),
    query: canonicalQueryString(query),
    headers: { canonical, signedHeaders: auth.signedHeaders.join(";") },
    payloadHash,
  });
  const scope = credentialScope(auth.shortDate, auth.region, auth.service);
  const key = verifierCache.get(input.credentials.secretAccessKey, auth.shortDate, auth.region, auth.service);
  const expected = Buffer.from(signatureOf(key, stringToSign(xDate, scope, request)), "utf8");
  const given = Buffer.from(auth.signature, "utf8");
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return fail("SignatureDoesNotMatch", "the request signature does not match");
  return { ok: true };
}
