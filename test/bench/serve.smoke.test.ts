import { describe, expect, it } from "vitest";
import { run } from "./serve.js";

describe("serve benchmark (smoke)", () => {
  it("measures task-creation latency beside the node:http floor, and loses no accepted task across kill -9 restarts", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((figure) => figure.unit)).toEqual([
      "ms",
      "ms",
      "req/s",
      "ms",
      "tasks",
      expect.stringMatching(/^of \d+ accepted tasks completed$/),
    ]);
    for (const figure of figures.slice(0, 3)) {
      expect(figure.value).toBeGreaterThan(0);
      expect(figure.baseline?.value).toBeGreaterThan(0);
    }
    expect(figures[4]?.value).toBe(0);
    const kill = figures[5];
    expect(kill?.name).toMatch(/kill -9 × 2 /);
    expect(kill?.unit).toBe(`of ${kill?.value} accepted tasks completed`);
    const [, duplicates, resubmitted] =
      /(\d+) duplicate upstream submits \((\d+) tasks caught/.exec(kill?.note ?? "") ?? [];
    expect(Number(duplicates)).toBeLessThanOrEqual(Number(resubmitted));
  }, 120_000);
});
