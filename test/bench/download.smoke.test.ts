import { describe, expect, it } from "vitest";
import { run } from "./download.js";

describe("download benchmark (smoke)", () => {
  it("measures throughput against curl and RSS growth with finite numbers", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((f) => f.name)).toEqual([
      "8 MB URL → disk throughput",
      "RSS growth, first 8 MB download in the process",
      "RSS growth, later 8 MB downloads",
      "RSS growth, 2 MB base64 → disk",
    ]);
    for (const figure of figures) {
      expect(Number.isFinite(figure.value)).toBe(true);
      if (figure.ratio !== undefined) expect(Number.isFinite(figure.ratio)).toBe(true);
    }
    expect(figures[0]?.value).toBeGreaterThan(0);
  });
});
