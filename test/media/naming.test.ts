import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { renderName, sanitizeFileName, slugify } from "../../src/media/naming.js";
import { rejectionOf } from "../helpers/http-server.js";

const context = {
  prompt: "A cat on the Moon, watercolour!",
  model: "jimeng-4.0",
  taskId: "7412345678901234567",
  index: 0,
  date: new Date(2026, 0, 2, 12, 0, 0),
};

describe("renderName", () => {
  it("renders the default template as date, slug and 1-based index", () => {
    expect(renderName(undefined, context)).toBe("20260102-a-cat-on-the-moon-watercolour-1");
    expect(renderName(undefined, { ...context, index: 3 })).toBe("20260102-a-cat-on-the-moon-watercolour-4");
  });

  it("fills every placeholder; {id} falls back to the task id", () => {
    const template = "{model}_{task}_{id}_{index}_{date}";
    expect(renderName(template, context)).toBe(
      "jimeng-4.0_7412345678901234567_7412345678901234567_1_20260102",
    );
    expect(renderName("{id}", { ...context, id: "hero-shot" })).toBe("hero-shot");
  });

  it("rejects an unknown placeholder with a ValidationError on path name", async () => {
    const error = await rejectionOf(Promise.resolve().then(() => renderName("{date}-{title}", context)));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining("{title}") }]);
  });

  it("keeps a template with separators and .. inside the folder as one segment", () => {
    for (const template of [
      "../../etc/passwd",
      "/etc/passwd",
      "..\\..\\windows\\{slug}",
      "a/../../{index}",
    ]) {
      const name = renderName(template, context);
      expect(name).not.toMatch(/[/\\]/);
      expect(name).not.toContain("..");
      expect(name).not.toMatch(/^\./);
    }
    expect(renderName("../../etc/passwd", context)).toBe("etc-passwd");
  });

  it("sanitises values that come from the server or the caller, such as a model id with a slash", () => {
    expect(renderName("{model}-{id}", { ...context, model: "org/model", id: "../x" })).toBe("org-model-.-x");
  });
});

describe("slugify", () => {
  it("keeps CJK text and drops punctuation", () => {
    expect(slugify("一只猫，在月球上！")).toBe("一只猫-在月球上");
  });

  it("caps the slug at 60 characters without a trailing dash", () => {
    const slug = slugify("word ".repeat(100));
    expect(Array.from(slug).length).toBeLessThanOrEqual(60);
    expect(slug).not.toMatch(/-$/);
  });

  it("falls back to untitled when nothing usable is left", () => {
    expect(slugify("!!! ??? ...")).toBe("untitled");
    expect(slugify("")).toBe("untitled");
  });
});

describe("sanitizeFileName", () => {
  it("removes NUL and control characters", () => {
    expect(sanitizeFileName("cat\u0000dog\u0007\nname")).toBe("catdogname");
  });

  it("prefixes Windows device names whatever their case or extension", () => {
    expect(sanitizeFileName("CON")).toBe("_CON");
    expect(sanitizeFileName("nul")).toBe("_nul");
    expect(sanitizeFileName("com1.tar")).toBe("_com1.tar");
    expect(sanitizeFileName("LPT9")).toBe("_LPT9");
    expect(sanitizeFileName("console")).toBe("console");
  });

  it("trims leading and trailing dots, spaces and dashes", () => {
    expect(sanitizeFileName("  ..hidden. . ")).toBe("hidden");
    expect(sanitizeFileName("-rf")).toBe("rf");
  });

  it("bounds a 10 000-character name to 150 characters and 200 bytes", () => {
    expect(Array.from(sanitizeFileName("a".repeat(10_000))).length).toBe(150);
    const cjk = sanitizeFileName("猫".repeat(10_000));
    expect(Buffer.byteLength(cjk)).toBeLessThanOrEqual(200);
    expect(cjk).toBe("猫".repeat(66));
  });

  it("replaces characters Windows forbids", () => {
    expect(sanitizeFileName('a<b>c:d"e|f?g*h')).toBe("a-b-c-d-e-f-g-h");
  });

  it("names an empty result output", () => {
    expect(sanitizeFileName("../..")).toBe("output");
    expect(sanitizeFileName("\u0000")).toBe("output");
  });
});
