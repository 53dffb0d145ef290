/**
 * Volcengine request signing (HMAC-SHA256, "V4 style", Volcengine's documented request-signing scheme), built in pure steps like
 * `@smithy/signature-v4`: payload hash → canonical query → canonical headers → canonical request →
 * credential scope → string to sign → signing key → `Authorization`. No I/O; time comes from a clock.
 */
import { createHmac, hash } from "node:crypto";
import { ValidationError } from "../errors.js";

export const ALGORITHM = "HMAC-SHA256";
export const SCOPE_TERMINATOR = "request";
export const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface VolcCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** STS token: sent and signed as `X-Security-Token`. */
  sessionToken?: string;
}

/**
 * Which headers are signed.
 * - `doc` (default): `content-type;host;x-content-sha256;x-date` (+ `x-security-token` and any other `x-*`),
 *   as the Volcengine docs, the Python and the Go SDKs do; `X-Content-Sha256` is always sent.
 * - `host`: every header given except authorization, content-type, content-length, user-agent,
 *   presigned-expires, expect (what `@volcengine/openapi`'s Signer does when given a Host header);
 *   `X-Content-Sha256` only for a non-empty body.
 * - `sdk`: like `host` but never the host (what `@volcengine/openapi`'s Service does).
 */
export type SigningProfile = "doc" | "host" | "sdk";

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Readonly<Record<string, QueryValue>>;

export interface SignableRequest {
  method: string;
  /** Defaults to `/`. */
  path?: string;
  query?: Query;
  /** The headers that will be sent (Host included when it is to be signed). */
  headers?: Readonly<Record<string, string>>;
  /** The exact body bytes that will be sent. */
  body?: string | Uint8Array | null;
  /** Lower-case hex SHA-256 of `body`, when the caller already has it. */
  payloadHash?: string;
}

export interface SignContext {
  credentials: VolcCredentials;
  region: string;
  service: string;
  date: Date;
  profile?: SigningProfile;
  /** Overrides the profile's choice of signed headers; gets lower-cased names. */
  signHeader?: (name: string) => boolean;
}

export interface SignedRequest {
  /** Headers to add to the request: `X-Date`, `Authorization` and, when used, `X-Content-Sha256`, `X-Security-Token`. */
  headers: Record<string, string>;
  authorization: string;
  xDate: string;
  payloadHash: string;
  canonicalQuery: string;
  canonicalRequest: string;
  signedHeaders: string;
  credentialScope: string;
  stringToSign: string;
  signature: string;
}

// ---------------------------------------------------------------------------------------------- steps

let lastSecond = Number.NaN;
let lastXDate = "";

/** `20260102T030405Z`. */
export function formatXDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second === lastSecond) return lastXDate;
  const iso = date.toISOString();
  // 2026-01-02T03:04:05.000Z
  lastXDate = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  lastSecond = second;
  return lastXDate;
}

/** Lower-case hex SHA-256 over the exact bytes (a string is hashed as UTF-8). Empty or absent → `e3b0…`. */
export function hashPayload(body: string | Uint8Array | null | undefined): string {
  if (body === undefined || body === null || body.length === 0) return EMPTY_PAYLOAD_SHA256;
  return hash("sha256", body, "hex");
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;

/** RFC 3986: only `A–Z a–z 0–9 - _ . ~` stay literal; everything else is `%XX` over UTF-8, upper-case hex. */
export function uriEscape(value: string): string {
  if (UNRESERVED.test(value)) return value;
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new ValidationError([
      { path: "query", message: "contains a lone UTF-16 surrogate and cannot be encoded" },
    ]);
  }
  return encoded.replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Byte order of the UTF-8 encodings (equal to code-point order). */
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // Code-unit order equals code-point order unless a surrogate meets a char in U+E000–U+FFFF.
  for (let i = 0; i < a.length && i < b.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i), "utf8"), Buffer.from(b.slice(i), "utf8"));
  }
  return a.length - b.length;
}

/**
 * Keys and values RFC 3986-escaped, pairs sorted by key in byte order, `key=value` joined with `&`.
 * null/undefined values are dropped; repeated values keep their order.
 */
export function canonicalQueryString(query: Query | undefined): string {
  if (!query) return "";
  const keys = Object.keys(query).sort(compareKeys);
  const parts: string[] = [];
  for (const key of keys) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const escapedKey = uriEscape(key);
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) parts.push(`${escapedKey}=${uriEscape(String(item))}`);
    } else {
      parts.push(`${escapedKey}=${uriEscape(String(value))}`);
    }
  }
  return parts.join("&");
}

/** `/` as is; any other path RFC 3986-escaped per segment. */
export function canonicalUri(path: string | undefined): string {
  if (!path || path === "/") return "/";
  return path
    .split("/")
    .map((segment) => uriEscape(safeDecode(segment)))
    .join("/");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** "Trimall": leading/trailing whitespace removed, inner runs collapsed to one space. */
export function canonicalHeaderValue(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}

const NEVER_SIGNED = new Set([
  "authorization",
  "content-type",
  "content-length",
  "user-agent",
  "presigned-expires",
  "expect",
]);
const DOC_SIGNED = new Set(["content-type", "content-md5", "host", "x-date", "x-content-sha256"]);

/** The profile's rule for one lower-cased header name. */
export function profileSignsHeader(profile: SigningProfile, name: string): boolean {
  switch (profile) {
    case "doc":
      return DOC_SIGNED.has(name) || name.startsWith("x-");
    case "host":
      return !NEVER_SIGNED.has(name);
    case "sdk":
      return name !== "host" && !NEVER_SIGNED.has(name);
  }
}

export interface CanonicalHeaders {
  /** `name:value\n` per signed header, sorted by name. */
  canonical: string;
  /** Sorted lower-cased names joined with `;`. */
  signedHeaders: string;
}

/** Canonical headers for the headers whose lower-cased names `sign` accepts. */
export function canonicalHeaders(
  headers: Readonly<Record<string, string>>,
  sign: (name: string) => boolean,
): CanonicalHeaders {
  const entries: [string, string][] = [];
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!sign(lower)) continue;
    entries.push([lower, canonicalHeaderValue(String(headers[name]))]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let canonical = "";
  let signed = "";
  for (const [name, value] of entries) {
    canonical += `${name}:${value}\n`;
    signed += signed ? `;${name}` : name;
  }
  return { canonical, signedHeaders: signed };
}

/** The six parts joined with `\n` (the header block ends in `\n`, so a blank line precedes SignedHeaders). */
export function canonicalRequest(parts: {
  method: string;
  uri: string;
  query: string;
  headers: CanonicalHeaders;
  payloadHash: string;
}): string {
  return `${parts.method.toUpperCase()}\n${parts.uri}\n${parts.query}\n${parts.headers.canonical}\n${parts.headers.signedHeaders}\n${parts.payloadHash}`;
}

/** `ShortDate/region/service/request`. */
export function credentialScope(shortDate: string, region: string, service: string): string {
  return `${shortDate}/${region}/${service}/${SCOPE_TERMINATOR}`;
}

export function stringToSign(xDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${xDate}\n${scope}\n${hash("sha256", canonical, "hex")}`;
}

/** kDate = HMAC(secret, date) (the secret's UTF-8 bytes, no prefix) → kRegion → kService → kSigning. */
export function deriveSigningKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", secret).update(shortDate).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update(SCOPE_TERMINATOR).digest();
}

export function signatureOf(signingKey: Buffer | SigningKey, toSign: string): string {
  if (signingKey instanceof SigningKey) return signingKey.sign(toSign);
  return createHmac("sha256", signingKey).update(toSign).digest("hex");
}

/**
 * A derived signing key with its HMAC pads precomputed (RFC 2104: H(K⊕opad ‖ H(K⊕ipad ‖ m))), so a signature
 * costs two one-shot hashes over reused buffers instead of a fresh HMAC set-up.
 */
export class SigningKey {
  /** K⊕ipad followed by room for the message. */
  readonly #inner = Buffer.alloc(64 + 1024);
  /** K⊕opad followed by the inner digest. */
  readonly #outer = Buffer.alloc(64 + 32);
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = Buffer.from(bytes);
    for (let i = 0; i < 64; i++) {
      const k = i < bytes.length ? (bytes[i] as number) : 0;
      this.#inner[i] = k ^ 0x36;
      this.#outer[i] = k ^ 0x5c;
    }
  }

  /** A copy of the raw key bytes. */
  get bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  /** Lower-case hex HMAC-SHA256 of `message`. */
  sign(message: string): string {
    if (Buffer.byteLength(message, "utf8") > this.#inner.length - 64)
      return createHmac("sha256", this.#bytes).update(message).digest("hex");
    const length = this.#inner.write(message, 64, "utf8");
    const innerDigest = hash("sha256", this.#inner.subarray(0, 64 + length), "buffer");
    innerDigest.copy(this.#outer, 64);
    return hash("sha256", this.#outer, "hex");
  }
}

export function authorizationHeader(
  accessKeyId: string,
  scope: string,
  signedHeaders: string,
  signature: string,
): string {
  return `${ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

// -------------------------------------------------------------------------------- signing-key cache

/** A digest naming a secret; the secret itself is never a map key. */
export function secretDigest(secret: string): string {
  return hash("sha256", `volc-signing-key-cache\0${secret}`, "hex");
}

/** A bounded LRU of signing keys keyed by (secret digest, date, region, service). */
export class SigningKeyCache {
  private readonly entries = new Map<string, SigningKey>();

  constructor(readonly maxEntries = 64) {}

  get size(): number {
    return this.entries.size;
  }

  get(
    secret: string,
    shortDate: string,
    region: string,
    service: string,
    digest = secretDigest(secret),
  ): SigningKey {
    const key = `${digest}/${shortDate}/${region}/${service}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const derived = new SigningKey(deriveSigningKey(secret, shortDate, region, service));
    this.entries.set(key, derived);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return derived;
  }

  /** The cache keys (digests, never secrets); for tests and diagnostics. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  clear(): void {
    this.entries.clear();
  }
}

const sharedCache = new SigningKeyCache();

// ------------------------------------------------------------------------------------------ sign

function hasHeader(headers: Readonly<Record<string, string>>, lower: string): boolean {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === lower) return true;
  return false;
}

/**
 * Signs one request: returns the headers to add and every intermediate step. `digest` (of the secret) and
 * `cache` let a long-lived signer skip re-hashing the secret and re-deriving the key.
 */
export function signRequest(
  request: SignableRequest,
  context: SignContext,
  internals: { cache?: SigningKeyCache; digest?: string; key?: (shortDate: string) => SigningKey } = {},
): SignedRequest {
  const profile = context.profile ?? "doc";
  const { credentials, region, service } = context;
  const xDate = formatXDate(context.date);
  const shortDate = xDate.slice(0, 8);
  const payloadHash = request.payloadHash ?? hashPayload(request.body);
  const bodyPresent = request.body !== undefined && request.body !== null && request.body.length > 0;

  const added: Record<string, string> = { "X-Date": xDate };
  const sendHash = profile === "doc" || bodyPresent;
  if (sendHash) added["X-Content-Sha256"] = payloadHash;
  if (credentials.sessionToken) added["X-Security-Token"] = credentials.sessionToken;

  const given = request.headers ?? {};
  const all: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    const lower = name.toLowerCase();
    if (lower === "x-date" || lower === "x-content-sha256" || lower === "x-security-token") continue;
    if (lower === "authorization") continue;
    all[name] = given[name] as string;
  }
  Object.assign(all, added);
  if (!hasHeader(all, "x-date")) all["X-Date"] = xDate;

  const sign = context.signHeader ?? ((name: string) => profileSignsHeader(profile, name));
  const headers = canonicalHeaders(all, sign);
  const canonicalQuery = canonicalQueryString(request.query);
  const canonical = canonicalRequest({
    method: request.method,
    uri: canonicalUri(request.path),
    query: canonicalQuery,
    headers,
    payloadHash,
  });
  const scope = credentialScope(shortDate, region, service);
  const toSign = stringToSign(xDate, scope, canonical);
  const key = internals.key
    ? internals.key(shortDate)
    : (internals.cache ?? sharedCache).get(
        credentials.secretAccessKey,
        shortDate,
        region,
        service,
        internals.digest,
      );
  const signature = signatureOf(key, toSign);
  const authorization = authorizationHeader(credentials.accessKeyId, scope, headers.signedHeaders, signature);
  added.Authorization = authorization;
  return {
    headers: added,
    authorization,
    xDate,
    payloadHash,
    canonicalQuery,
    canonicalRequest: canonical,
    signedHeaders: headers.signedHeaders,
    credentialScope: scope,
    stringToSign: toSign,
    signature,
  };
}

export interface VolcSignerOptions {
  credentials: VolcCredentials;
  region: string;
  service: string;
  profile?: SigningProfile;
  signHeader?: (name: string) => boolean;
  /** Injected clock; `Date.now` by default. */
  clock?: () => number;
  cache?: SigningKeyCache;
}

/** A signer bound to one set of credentials, region and service; hashes the secret once. */
export class VolcSigner {
  // ES private fields: util.inspect and console.log never show them, so the secret stays out of logs.
  readonly #options: VolcSignerOptions;
  readonly #digest: string;
  readonly #cache: SigningKeyCache;
  readonly #clock: () => number;
  /** The key for the last date used: most signatures in a day skip even the cache lookup. */
  #lastKey: { shortDate: string; key: SigningKey } | undefined;

  constructor(options: VolcSignerOptions) {
    this.#options = { ...options, credentials: { ...options.credentials } };
    this.#digest = secretDigest(options.credentials.secretAccessKey);
    this.#cache = options.cache ?? sharedCache;
    this.#clock = options.clock ?? Date.now;
  }

  get accessKeyId(): string {
    return this.#options.credentials.accessKeyId;
  }

  /** Signs with the clock's current time unless `date` is given. */
  sign(request: SignableRequest, date: Date = new Date(this.#clock())): SignedRequest {
    const options = this.#options;
    const context: SignContext = {
      credentials: options.credentials,
      region: options.region,
      service: options.service,
      date,
    };
    if (options.profile) context.profile = options.profile;
    if (options.signHeader) context.signHeader = options.signHeader;
    return signRequest(request, context, { key: (shortDate) => this.#keyFor(shortDate) });
  }

  /** Never shows the secret or the token. */
  toJSON(): Record<string, string> {
    return { accessKeyId: this.accessKeyId, region: this.#options.region, service: this.#options.service };
  }

  #keyFor(shortDate: string): SigningKey {
    const last = this.#lastKey;
    if (last?.shortDate === shortDate) return last.key;
    const { credentials, region, service } = this.#options;
    const key = this.#cache.get(credentials.secretAccessKey, shortDate, region, service, this.#digest);
    this.#lastKey = { shortDate, key };
    return key;
  }
}
