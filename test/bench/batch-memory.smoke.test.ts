import { describe, expect, it } from "vitest";
import { run } from "./batch-memory.js";

describe("running-batch memory benchmark (smoke)", () => {
  it("runs the built jobs to the end in their own process at two sizes and measures each peak RSS", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((figure) => figure.unit)).toEqual(["MB", "MB"]);
    expect(figures[0]?.note).toMatch(/^exit 0, 100\/100 succeeded/);
    expect(figures[1]?.note).toMatch(/exit 0, 1000\/1000 succeeded/);
    for (const figure of figures) expect(figure.value).toBeGreaterThan(0);
  }, 120_000);
});
