import { describe, expect, it } from "vitest";
import { parseServerJson, quoteUnsafeIntegers } from "../../src/http/json-text.js";

describe("parseServerJson", () => {
  it("keeps integers beyond 2^53 as strings of their exact digits, anywhere in the document", () => {
    expect(
      parseServerJson('{"history_id": 12345678901234567891, "n": [9007199254740993, -99999999999999999999]}'),
    ).toEqual({
      history_id: "12345678901234567891",
      n: ["9007199254740993", "-99999999999999999999"],
    });
  });

  it("leaves safe numbers, decimals and digits inside strings as JSON.parse would", () => {
    const text =
      '{"a": 9007199254740991, "b": 1.5e300, "c": "12345678901234567891", "d": "x\\"123456789012345678901"}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
    expect(parseServerJson(text)).toEqual(JSON.parse(text));
  });

  it("is undefined for a body that is not a JSON object or array", () => {
    expect(parseServerJson("<html>")).toBeUndefined();
    expect(parseServerJson("{broken")).toBeUndefined();
  });
});
