/** The images-per-minute window of the Ark provider, on a fake clock. */
import { describe, expect, it } from "vitest";
import { ImageRate } from "../../../src/providers/ark/image-rate.js";

function fakeTime() {
  let now = 0;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

describe("ImageRate", () => {
  it("lets images through until the minute is full, then waits until the oldest leave the window", async () => {
    const time = fakeTime();
    const rate = new ImageRate({ perMinute: 10, now: time.now, sleep: time.sleep });
    await rate.take(4);
    await rate.take(6);
    expect(time.waits).toEqual([]);
    await rate.take(3);
    expect(time.waits).toEqual([60_000]);
    expect(time.now()).toBe(60_000);
  });

  it("counts a set by its images: a set of 8 after 5 waits for the first 5 to expire", async () => {
    const time = fakeTime();
    const rate = new ImageRate({ perMinute: 10, now: time.now, sleep: time.sleep });
    await rate.take(5);
    await time.sleep(20_000);
    await rate.take(2);
    time.waits.length = 0;
    await rate.take(8);
    expect(time.waits).toEqual([40_000]);
    expect(time.now()).toBe(60_000);
  });

  it("is off at 0", async () => {
    const time = fakeTime();
    const rate = new ImageRate({ perMinute: 0, now: time.now, sleep: time.sleep });
    for (let index = 0; index < 100; index++) await rate.take(15);
    expect(time.waits).toEqual([]);
  });
});
