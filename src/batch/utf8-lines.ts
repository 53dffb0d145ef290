/**
 * A batch file's lines, read as a stream of bytes and checked to be UTF-8 one line at a time, so that a file
 * saved in another encoding (GBK, Latin-1) is a validation error with its line number instead of prompts
 * sent (and paid for) as mojibake. A UTF-8 byte order mark at the start is dropped.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";

export type Utf8Line = { line: number; text: string } | { line: number; invalid: true };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function decode(bytes: Buffer, line: number): Utf8Line {
  const start = line === 1 && bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
  let end = bytes.length;
  if (end > start && bytes[end - 1] === 0x0d) end--;
  const content = bytes.subarray(start, end);
  return isUtf8(content) ? { line, text: content.toString("utf8") } : { line, invalid: true };
}

/** Every line of `file` (LF or CRLF), in order, decoded or marked invalid. */
export async function* utf8Lines(file: string): AsyncGenerator<Utf8Line> {
  let line = 0;
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      yield decode(data.subarray(0, newline), ++line);
      data = data.subarray(newline + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield decode(rest, ++line);
}

/** The 1-based line of the first invalid UTF-8 sequence in `bytes`, or undefined when all of it is UTF-8. */
export function firstInvalidLine(bytes: Buffer): number | undefined {
  if (isUtf8(bytes)) return undefined;
  let line = 1;
  let start = 0;
  for (let newline = bytes.indexOf(0x0a); ; newline = bytes.indexOf(0x0a, start)) {
    const end = newline === -1 ? bytes.length : newline;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    if (newline === -1) return line;
    start = newline + 1;
    line++;
  }
}

export const NOT_UTF8 =
  "is not valid UTF-8 text; save the file as UTF-8 (a file in GBK or another encoding would be sent as garbled prompts)";
