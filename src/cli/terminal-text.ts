/**
 * Text from outside (a server's ids and messages, file names, batch fields) is data: before it reaches a
 * terminal or a CI log it is made inert. Control characters become visible escapes (`\x1b`, `\n`), so no
 * escape sequence, carriage return or line break of theirs can move the cursor, erase a line, fake one of our
 * lines or start a CI annotation; and it is bounded in length.
 */
import { shellQuote } from "./shell-quote.js";

export { shellQuote };

/** C0 (except TAB and LF, handled by the callers), DEL, C1, line/paragraph separators, bidi overrides. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same set with TAB and LF, for text that must stay on one line. */
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** Our own colour codes (SGR), the only escape sequences the CLI itself writes through its Output. */
const SGR = /\u001b\[[0-9;]*m/g;

export const DEFAULT_SAFE_LENGTH = 500;

function visible(char: string): string {
  switch (char) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default: {
      const code = char.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
    }
  }
}

/**
 * One line of outside text, safe to show: every control character escaped visibly, at most `max`
 * characters (the rest replaced by a count).
 */
export function safeText(text: string, max = DEFAULT_SAFE_LENGTH): string {
  const escaped = text.replace(UNSAFE_IN_LINE, visible);
  const chars = [...escaped];
  if (chars.length <= max) return escaped;
  return `${chars.slice(0, max).join("")}… (${chars.length - max} more characters)`;
}

/**
 * The last line of defence on every byte the CLI writes for a person: keeps line breaks, tabs and our own
 * colour codes, escapes every other control character (an ESC that does not open a colour code included).
 */
export function neutralise(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(SGR)) {
    out += text.slice(last, match.index).replace(UNSAFE, visible) + match[0];
    last = match.index + match[0].length;
  }
  return out + text.slice(last).replace(UNSAFE, visible);
}

/** A command line for the user to paste: each argument shell-quoted, and made safe to show. */
export function shellCommand(args: readonly string[]): string {
  return safeText(args.map(shellQuote).join(" "), 2000);
}
