import { describe, expect, it } from "vitest";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { run } from "./redis.js";

// The built bin (`npm run build` first) as `jimeng worker` and `jimeng batch --redis` processes.
reportRedisMissing("test/bench/redis.smoke.test.ts");

describe.runIf(REDIS_SERVER)("redis benchmark (smoke)", () => {
  it("measures throughput and the shared QPS cap; a batch loses nothing and pays nothing twice through worker kills and a Redis restart", async () => {
    const figures = await run({ quick: true });
    expect(figures.map((figure) => figure.unit)).toEqual([
      "jobs/s",
      "jobs/s",
      "jobs/s",
      "lost",
      "requests over 10 in a 1 s window",
      "lost",
    ]);
    for (const figure of figures) expect(Number.isFinite(figure.value)).toBe(true);
    for (const figure of figures.slice(0, 3)) expect(figure.value).toBeGreaterThan(0);
    for (const figure of [figures[3], figures[5]]) {
      expect(figure?.name).toMatch(/^batch --redis/);
      // The note carries the duplicate submits, sha256 mismatches, the report's counts and the batch's exit.
      expect(figure?.met, `${figure?.name}: ${figure?.value} lost; ${figure?.note}`).toBe(true);
    }
    expect(figures[3]?.name).toMatch(/kill -9 every 2 s \(× [1-9]/);
  }, 120_000);
});
