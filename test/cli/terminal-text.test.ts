import { describe, expect, it } from "vitest";
import { neutralise, safeText, shellCommand, shellQuote } from "../../src/cli/terminal-text.js";

describe("safeText", () => {
  it("makes every control character visible, line breaks included, and keeps other text", () => {
    expect(safeText("a\u001b[2K\rb\nc\u0007d\u009be\u202ef\tg 猫")).toBe(
      "a\\x1b[2K\\rb\\nc\\x07d\\x9be\\u202ef\\tg 猫",
    );
  });

  it("bounds the length and says how much was cut", () => {
    expect(safeText("x".repeat(12), 5)).toBe("xxxxx… (7 more characters)");
  });
});

describe("neutralise", () => {
  it("keeps line breaks, tabs and colour codes, and escapes every other escape sequence", () => {
    expect(neutralise("\u001b[31merror:\u001b[39m x\u001b]8;;http://e\u0007y\r\n\tz")).toBe(
      "\u001b[31merror:\u001b[39m x\\x1b]8;;http://e\\x07y\\r\n\tz",
    );
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and single-quotes anything else", () => {
    expect(shellQuote("7392616336519618328")).toBe("7392616336519618328");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's $(x)")).toBe(`'it'\\''s $(x)'`);
    expect(shellCommand(["jimeng", "result", "h1;rm -rf ~"])).toBe("jimeng result 'h1;rm -rf ~'");
  });
});
