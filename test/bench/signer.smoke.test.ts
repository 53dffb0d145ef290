import { describe, expect, it } from "vitest";
import { run } from "./signer.js";

describe("signer benchmark (smoke)", () => {
  it("returns finite positive signatures/s for both signers and their ratio", async () => {
    const [figure, ...rest] = await run({ quick: true });
    expect(rest).toHaveLength(0);
    expect(figure?.suite).toBe("signer");
    for (const value of [figure?.value, figure?.baseline?.value, figure?.ratio]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
    }
  });
});
