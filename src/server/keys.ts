/**
 * API keys: 32 random bytes, shown once; only their SHA-256 is stored. A key is long and random, so a fast
 * hash is enough (there is nothing to brute-force, unlike a password).
 */
import { createHash, randomBytes } from "node:crypto";

export const KEY_PREFIX = "jms_";

export function newApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The key of an `Authorization: Bearer <key>` header, or undefined. */
export function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
