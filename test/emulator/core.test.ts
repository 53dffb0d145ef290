import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { EmulatorCoreImpl } from "../../src/emulator/core.js";
import { FaultPlan } from "../../src/emulator/faults.js";
import { tinyMp4 } from "../../src/emulator/mp4.js";
import { proceduralPng } from "../../src/emulator/png.js";
import { seededRandom } from "../../src/emulator/random.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import type { RouteHandler } from "../../src/emulator/types.js";

function pngChunks(png: Buffer): { type: string; data: Buffer }[] {
  const chunks: { type: string; data: Buffer }[] = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    chunks.push({
      type: png.toString("ascii", offset + 4, offset + 8),
      data: png.subarray(offset + 8, offset + 8 + length),
    });
    offset += 12 + length;
  }
  return chunks;
}

describe("procedural PNG", () => {
  it("is a valid PNG whose pixels inflate to the declared size", () => {
    const png = proceduralPng("task-1/0", 32, 16);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks = pngChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    const ihdr = chunks[0]?.data as Buffer;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)]).toEqual([32, 16]);
    expect(inflateSync(chunks[1]?.data as Buffer).length).toBe((32 * 3 + 1) * 16);
  });

  it("is the same for the same key and different for another", () => {
    expect(proceduralPng("a", 16, 16).equals(proceduralPng("a", 16, 16))).toBe(true);
    expect(proceduralPng("a", 16, 16).equals(proceduralPng("b", 16, 16))).toBe(false);
  });
});

describe("tiny MP4", () => {
  it("starts with an ftyp box and holds moov and mdat boxes", () => {
    const mp4 = tinyMp4("v", 5000, 100);
    const boxes: string[] = [];
    let offset = 0;
    while (offset < mp4.length) {
      boxes.push(mp4.toString("ascii", offset + 4, offset + 8));
      offset += mp4.readUInt32BE(offset);
    }
    expect(offset).toBe(mp4.length);
    expect(boxes).toEqual(["ftyp", "moov", "mdat"]);
  });
});

describe("FaultPlan", () => {
  it("fails about the configured share of operations, reproducibly", () => {
    const run = () => {
      const plan = new FaultPlan({ poll: { serverError: 0.1, reset: 0.05 } }, seededRandom(7));
      return Array.from({ length: 2000 }, () => plan.decide("poll", "visual", 0, 0));
    };
    const first = run();
    expect(run()).toEqual(first);
    const errors = first.filter((k) => k === "server-error").length;
    const resets = first.filter((k) => k === "reset").length;
    expect(errors).toBeGreaterThan(140);
    expect(errors).toBeLessThan(260);
    expect(resets).toBeGreaterThan(60);
    expect(resets).toBeLessThan(140);
  });

  it("applies no faults to operations without rates", () => {
    const plan = new FaultPlan({ poll: { serverError: 1 } }, seededRandom(1));
    expect(plan.decide("submit", "visual", 0, 0)).toBeUndefined();
    expect(plan.decide("poll", "visual", 0, 0)).toBe("server-error");
  });

  it("throttles past the QPS cap within one second and recovers after it", () => {
    const plan = new FaultPlan({ qps: 2 }, seededRandom(1));
    expect(plan.decide("submit", "visual", 0, 0)).toBeUndefined();
    expect(plan.decide("poll", "visual", 100, 0)).toBeUndefined();
    expect(plan.decide("poll", "visual", 200, 0)).toBe("throttle-qps");
    expect(plan.decide("poll", "session", 200, 0)).toBeUndefined();
    expect(plan.decide("poll", "visual", 1001, 0)).toBeUndefined();
  });

  it("refuses submits past the concurrency cap", () => {
    const plan = new FaultPlan({ maxConcurrentTasks: 2 }, seededRandom(1));
    expect(plan.decide("submit", "visual", 0, 1)).toBeUndefined();
    expect(plan.decide("submit", "visual", 0, 2)).toBe("throttle-concurrency");
    expect(plan.decide("poll", "visual", 0, 2)).toBeUndefined();
  });
});

describe("EmulatorCoreImpl", () => {
  it("moves a task queued → running → succeeded on its clock", () => {
    let now = 1000;
    const core = new EmulatorCoreImpl({ clock: () => now, durations: { image: 100 }, queueShare: 0.2 });
    const task = core.createTask({
      provider: "visual",
      model: "m",
      output: "image",
      prompt: "p",
      outputCount: 2,
    });
    expect(core.phase(task)).toBe("queued");
    now += 20;
    expect(core.phase(task)).toBe("running");
    now += 80;
    expect(core.phase(task)).toBe("succeeded");
    expect(core.outputs(task)).toHaveLength(2);
  });

  it("fails a task whose prompt carries a [fail:CODE] marker", () => {
    let now = 0;
    const core = new EmulatorCoreImpl({ clock: () => now, durations: { image: 10 } });
    const task = core.createTask({
      provider: "session",
      model: "m",
      output: "image",
      prompt: "x [fail:2038]",
      outputCount: 4,
    });
    now = 10;
    expect(core.phase(task)).toBe("failed");
    expect(task.failCode).toBe(2038);
  });

  it("gives visual tasks ids above 2^53 and counts tasks per prompt", () => {
    const core = new EmulatorCoreImpl();
    const a = core.createTask({
      provider: "visual",
      model: "m",
      output: "image",
      prompt: "same",
      outputCount: 1,
    });
    core.createTask({ provider: "visual", model: "m", output: "image", prompt: "same", outputCount: 1 });
    expect(BigInt(a.id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(core.counters.tasksByPrompt.same).toBe(2);
  });

  it("runs time faster with timeScale", () => {
    let now = 0;
    const core = new EmulatorCoreImpl({ clock: () => now, timeScale: 100, durations: { video: 60_000 } });
    const task = core.createTask({
      provider: "visual",
      model: "m",
      output: "video",
      prompt: "v",
      outputCount: 1,
    });
    now = 599;
    expect(core.phase(task)).toBe("running");
    now = 600;
    expect(core.phase(task)).toBe("succeeded");
  });
});

describe("startEmulator", () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  /** A minimal half: POST /make creates an image task and answers its output URLs once finished. */
  const testRoutes: RouteHandler = async (request, core) => {
    if (request.url.pathname !== "/make") return undefined;
    const task = core.createTask({
      provider: "session",
      model: "m",
      output: "image",
      prompt: "p",
      outputCount: 2,
    });
    await core.waitUntilFinished(task);
    return { status: 200, json: { urls: core.outputs(task).map((o) => o.url) } };
  };

  it("serves task outputs whose sha256 matches what it reports", async () => {
    emulator = await startEmulator({ routes: [testRoutes], durations: { image: 5 } });
    const made = (await (await fetch(`${emulator.url}/make`, { method: "POST" })).json()) as {
      urls: string[];
    };
    expect(made.urls).toHaveLength(2);
    const bytes = Buffer.from(await (await fetch(made.urls[0] as string)).arrayBuffer());
    const [task] = emulator.tasks();
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(task?.outputs[0]?.sha256);
    expect(emulator.counters.downloads).toBe(1);
  });

  it("answers 404 for unknown routes and files", async () => {
    emulator = await startEmulator({ routes: [] });
    expect((await fetch(`${emulator.url}/nope`)).status).toBe(404);
    expect((await fetch(`${emulator.url}/files/123/0.png`)).status).toBe(404);
  });

  it("truncates downloads when told to, so clients can test their checks", async () => {
    emulator = await startEmulator({
      routes: [testRoutes],
      durations: { image: 1 },
      faults: { download: { truncate: 1 } },
    });
    const made = (await (await fetch(`${emulator.url}/make`, { method: "POST" })).json()) as {
      urls: string[];
    };
    await expect(fetch(made.urls[0] as string).then((r) => r.arrayBuffer())).rejects.toThrow();
  });

  it("publishes its counters over HTTP", async () => {
    emulator = await startEmulator({ routes: [] });
    const counters = (await (await fetch(`${emulator.url}/__emulator/counters`)).json()) as {
      requests: number;
    };
    expect(counters.requests).toBe(1);
  });
});
