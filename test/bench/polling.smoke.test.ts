import { describe, expect, it } from "vitest";
import { run } from "./polling.js";

describe("polling benchmark (smoke)", () => {
  it("compares the project's schedule with a fixed 1 s poller in finite numbers", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((f) => f.name)).toEqual([
      "total polls",
      "polls per image task (mean)",
      "polls per video task (mean)",
      "median detection latency",
      "median detection latency / duration",
      "median latency / max(0.5 s, 10 % of duration)",
      "image-only: total polls",
      "image-only: median latency / max(0.5 s, 10 % of duration)",
    ]);
    for (const figure of figures) {
      expect(Number.isFinite(figure.value)).toBe(true);
      expect(Number.isFinite(figure.baseline?.value)).toBe(true);
    }
    expect(figures[0]?.value).toBeGreaterThan(0);
  });
});
