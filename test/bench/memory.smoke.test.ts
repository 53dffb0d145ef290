import { describe, expect, it } from "vitest";
import { run } from "./memory.js";

describe("memory benchmark (smoke)", () => {
  it("measures the peak RSS of a streamed --dry-run in its own process", async () => {
    const [figure] = await run({ quick: true });
    expect(figure?.unit).toBe("MB");
    expect(figure?.note).toMatch(/^exit 0/);
    expect(figure?.value).toBeGreaterThan(0);
  }, 60_000);
});
