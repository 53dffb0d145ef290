import { describe, expect, it } from "vitest";
import { JsonSyntaxError, scanJson } from "../../src/batch/json-scan.js";

describe("scanJson", () => {
  it("parses to the same value as JSON.parse", () => {
    const text = '{"a":[1,-2.5e3,true,false,null,"x\\n\\u00e9"],"b":{"c":{}},"d":[],"__proto__":{"e":1}}';
    const { value } = scanJson(text);
    expect(value).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("records the start line of each array element and the line of each key", () => {
    const { value, elementLines, keyLines } = scanJson('\uFEFF[\n  {"a": 1},\n\n  {\n "b":\n 2}, 3\n]');
    const array = value as Record<string, unknown>[];
    expect(elementLines.get(array)).toEqual([2, 4, 6]);
    expect(keyLines.get(array[1]!)?.get("b")).toBe(5);
  });

  it("throws a JsonSyntaxError with the line and column of the problem", () => {
    const cases: Array<[string, number, number]> = [
      ['[\n  {"a": 1,}\n]', 2, 11],
      ['{"a": "unterminated\n}', 1, 7],
      ["[1, 2", 1, 6],
      ["[1] x", 1, 5],
      ["{'a': 1}", 1, 2],
    ];
    for (const [text, line, column] of cases) {
      const error = (() => {
        try {
          scanJson(text);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error, text).toBeInstanceOf(JsonSyntaxError);
      expect([(error as JsonSyntaxError).line, (error as JsonSyntaxError).column], text).toEqual([
        line,
        column,
      ]);
    }
  });
});
