/**
 * A small JSON parser that remembers where things start: the line of every array element and object member,
 * so a `.json` batch file can say `jobs.json:14: ratio: ...` for a job object spanning lines 14–19.
 * Produces the same values as JSON.parse (strings and numbers are decoded by JSON.parse itself). Pure.
 */

export class JsonSyntaxError extends Error {
  override name = "JsonSyntaxError";
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export interface ScannedJson {
  value: unknown;
  /** Start line (1-based) of each element of each array in `value`. */
  elementLines: WeakMap<unknown[], number[]>;
  /** Line (1-based) of each member's key of each object in `value`. */
  keyLines: WeakMap<object, Map<string, number>>;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 512;

/** Parses `text` as JSON, recording line numbers; throws JsonSyntaxError with the line and column. */
export function scanJson(text: string): ScannedJson {
  const elementLines = new WeakMap<unknown[], number[]>();
  const keyLines = new WeakMap<object, Map<string, number>>();
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = 0;

  const fail = (message: string, at = pos): never => {
    throw new JsonSyntaxError(message, line, at - lineStart + 1);
  };
  const describe = (): string => (pos >= text.length ? "end of file" : JSON.stringify(text[pos]));

  const skipWhitespace = () => {
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      if (code === 0x0a) {
        line++;
        lineStart = pos + 1;
      } else if (code !== 0x20 && code !== 0x09 && code !== 0x0d) {
        return;
      }
      pos++;
    }
  };

  const parseString = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      if (code === 0x22) {
        pos++;
        try {
          return JSON.parse(text.slice(start, pos)) as string;
        } catch {
          return fail("invalid string (bad escape or control character)", start);
        }
      }
      if (code === 0x5c) pos += 2;
      else if (code === 0x0a) return fail("unterminated string", start);
      else pos++;
    }
    return fail("unterminated string", start);
  };

  const parseValue = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    skipWhitespace();
    const char = text[pos];
    if (char === "{") return parseObject(depth);
    if (char === "[") return parseArray(depth);
    if (char === '"') return parseString();
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match !== null) {
      pos += match[0].length;
      return Number(match[0]);
    }
    return fail(`unexpected ${describe()}; expected a value`);
  };

  const parseArray = (depth: number): unknown[] => {
    const array: unknown[] = [];
    const lines: number[] = [];
    elementLines.set(array, lines);
    pos++;
    skipWhitespace();
    if (text[pos] === "]") {
      pos++;
      return array;
    }
    for (;;) {
      skipWhitespace();
      lines.push(line);
      array.push(parseValue(depth + 1));
      skipWhitespace();
      if (text[pos] === ",") {
        pos++;
        continue;
      }
      if (text[pos] === "]") {
        pos++;
        return array;
      }
      fail(`unexpected ${describe()}; expected "," or "]" after an array element`);
    }
  };

  const parseObject = (depth: number): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    const keys = new Map<string, number>();
    keyLines.set(object, keys);
    pos++;
    skipWhitespace();
    if (text[pos] === "}") {
      pos++;
      return object;
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') fail(`unexpected ${describe()}; expected a property name in double quotes`);
      const keyLine = line;
      const key = parseString();
      skipWhitespace();
      if (text[pos] !== ":") fail(`unexpected ${describe()}; expected ":" after a property name`);
      pos++;
      const value = parseValue(depth + 1);
      // defineProperty: a "__proto__" key becomes an ordinary member, as with JSON.parse.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      keys.set(key, keyLine);
      skipWhitespace();
      if (text[pos] === ",") {
        pos++;
        continue;
      }
      if (text[pos] === "}") {
        pos++;
        return object;
      }
      fail(`unexpected ${describe()}; expected "," or "}" after a property value`);
    }
  };

  const value = parseValue(0);
  skipWhitespace();
  if (pos < text.length) fail(`unexpected ${describe()} after the JSON value`);
  return { value, elementLines, keyLines };
}
