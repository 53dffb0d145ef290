import { describe, expect, it } from "vitest";
import { run } from "./batch.js";

describe("batch benchmark (smoke)", () => {
  it("measures makespan, peak RSS (in process and of the CLI) and the QPS-capped comparison, every job done", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((figure) => figure.unit)).toEqual(["ms", "MB", "MB", "s", "requests", "requests"]);
    for (const figure of figures) expect(Number.isFinite(figure.value)).toBe(true);
    expect(figures[0]?.note).toMatch(/^40\/40 succeeded/);
    expect(figures[2]?.note).toMatch(/exit 0/);
    expect(figures[2]?.value).toBeGreaterThan(0);
    expect(figures[3]?.note).toMatch(/ours 24\/24/);
  }, 60_000);
});
