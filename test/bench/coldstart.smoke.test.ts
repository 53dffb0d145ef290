import { describe, expect, it } from "vitest";
import { run } from "./coldstart.js";

describe("cold start benchmark (smoke)", () => {
  it("measures --version and --help against node -e 0", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((f) => f.name)).toEqual(["jimeng --version", "jimeng --help"]);
    for (const figure of figures) {
      expect(figure.value).toBeGreaterThan(0);
      expect(Number.isFinite(figure.ratio)).toBe(true);
    }
  });
});
