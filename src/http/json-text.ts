/**
 * JSON from servers, parsed so that ids keep every digit: an integer too large for a double (beyond 2^53,
 * e.g. a `history_id` or `task_id` sent as a bare number) becomes a string of its exact digits instead of
 * being rounded to another id. Everything else parses as JSON.parse would.
 */

/** Integers with more digits than this may be unsafe; shorter ones never are. */
const SAFE_DIGITS = 15;

/**
 * The text with every integer literal outside strings that is not a safe integer wrapped in quotes. Scans
 * once; returns the same string when there is none (the common case).
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = "";
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) {
      inString = true;
      continue;
    }
    if (char !== 0x2d && (char < 0x30 || char > 0x39)) continue;
    let end = i + 1;
    while (end < text.length && /[0-9.eE+-]/.test(text[end] as string)) end++;
    const literal = text.slice(i, end);
    if (/^-?\d+$/.test(literal) && literal.replace("-", "").length > SAFE_DIGITS) {
      if (!Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(copied, i)}"${literal}"`;
        copied = end;
      }
    }
    i = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Parses a server's JSON body (an object or array), keeping big integers exact; undefined when not JSON. */
export function parseServerJson(text: string): unknown {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(quoteUnsafeIntegers(text));
  } catch {
    return undefined;
  }
}
