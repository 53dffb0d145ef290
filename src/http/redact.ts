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
 * The ways a secret can show up in text: as written, percent-encoded (upper- and lower-case hex), and
 * base64 (standard and URL-safe alphabets) at each of the three byte alignments it can have inside a longer
 * encoded value; for base64 only the characters that depend on the secret alone are kept, so an echoed
 * `base64("token=" + secret)` is caught as well as `base64(secret)`.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret]);
  const percent = encodeURIComponent(secret);
  forms.add(percent);
  forms.add(percent.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  const bytes = Buffer.from(secret, "utf8");
  for (let lead = 0; lead < 3; lead++) {
    const encoded = Buffer.concat([Buffer.alloc(lead), bytes])
      .toString("base64")
      .replace(/=+$/, "");
    // Characters fed by the filler bytes in front, and the last one when it also takes following bits.
    const start = lead === 0 ? 0 : lead + 1;
    const end = (lead + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 1;
    const core = encoded.slice(start, end);
    if (core.length < 4) continue;
    forms.add(core);
    forms.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...forms];
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
