/** Header names whose values are credentials. Compared lower-cased. */
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-security-token",
  "cookie",
  "set-cookie",
  "x-api-key",
]);

export const REDACTED = "[redacted]";

export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name.toLowerCase())
      ? REDACTED
      : Array.isArray(value)
        ? value.join(", ")
        : value;
  }
  return out;
}

/**
 * Replaces every occurrence of each secret in `text`. The last line of defence for anything printed:
 * secrets shorter than 4 characters are ignored, so that a stray "a" does not blank out the output.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** `AKLT…abcd`: enough to tell two keys apart, never enough to use one. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return "…";
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}
