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
      const why = `${figure?.name}: ${figure?.value} lost; ${figure?.note}`;
      expect(figure?.name).toMatch(/^batch --redis/);
      expect(figure?.value, why).toBe(0);
      // A kill that lands mid-submit may cost one resubmit (the uncertain-submit rule); any other is a bug.
      expect(figure?.note, why).toMatch(
        /, 0 otherwise\), 0 sha256 mismatches; report (\d+)\/\1 succeeded, 0 failed \(0 UNCERTAIN_SUBMIT\); batch exit 0,/,
      );
    }
    expect(figures[3]?.name).toMatch(/kill -9 every 2 s \(× [1-9]/);
  }, 120_000);
});
