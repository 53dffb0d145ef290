/**
 * ArkProvider through the SDK (`Jimeng`) against the emulator's Ark half: the catalog's rules before sending,
 * sets and partial sets, streamed images recorded as they arrive, the result store across processes, video
 * tasks with cancel, and the seed servers' fields.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { arkRoutes } from "../../../src/emulator/ark-routes.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../../src/emulator/server.js";
import { ValidationError } from "../../../src/errors.js";
import { ArkProvider, type ArkProviderOptions } from "../../../src/providers/ark/provider.js";
import { fileResultStore } from "../../../src/providers/ark/results.js";
import type { TaskRef } from "../../../src/providers/types.js";
import { Jimeng } from "../../../src/tasks/client.js";
import { TaskFailedError } from "../../../src/tasks/errors.js";
import { rejectionOf } from "../../helpers/rejection.js";

let emulator: RunningEmulator | undefined;
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await emulator?.stop();
  emulator = undefined;
});

/** Every request body the Ark half received, in order. */
function recordingRoutes(bodies: Record<string, unknown>[]): EmulatorOptions["routes"] {
  return [
    (request, core) => {
      if (request.method === "POST" && request.body.length > 0)
        bodies.push(JSON.parse(request.body.toString()));
      return arkRoutes(request, core);
    },
  ];
}

async function setup(options: EmulatorOptions = {}, provider: Partial<ArkProviderOptions> = {}) {
  const bodies: Record<string, unknown>[] = [];
  emulator = await startEmulator({
    durations: { image: 30, video: 40 },
    routes: recordingRoutes(bodies),
    ...options,
  });
  const ark = new ArkProvider({
    apiKey: emulator.credentials.arkApiKey,
    endpoint: `${emulator.url}/api/v3`,
    sleep: async () => {},
    ...provider,
  });
  const jimeng = new Jimeng({ provider: ark, maxPollIntervalMs: 5 });
  closers.push(() => jimeng.close());
  return { emulator, ark, jimeng, bodies };
}

describe("ArkProvider images", () => {
  it("generate() on 4.x asks for a set of n in one streamed request and returns every image", async () => {
    const { jimeng, bodies } = await setup();
    const result = await jimeng.generate({ prompt: "four seasons", count: 3, ratio: "16:9" });
    expect(result.status.status).toBe("succeeded");
    expect(result.status.outputs).toHaveLength(3);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toEqual({
      model: "doubao-seedream-4-5-251128",
      prompt: "four seasons",
      size: "2560x1440",
      response_format: "url",
      sequential_image_generation: "auto",
      sequential_image_generation_options: { max_images: 3 },
      stream: true,
    });
  });

  it("sends n parallel requests to 3.0, one image each", async () => {
    const { jimeng, bodies } = await setup();
    const ref = await jimeng.submit({
      prompt: "a cat",
      model: "seedream-3.0",
      count: 3,
      seed: 7,
      size: "1024x1024",
    });
    expect(bodies).toHaveLength(3);
    expect(bodies[0]).toEqual({
      model: "doubao-seedream-3-0-t2i-250415",
      prompt: "a cat",
      size: "1024x1024",
      seed: 7,
      response_format: "url",
    });
    const status = await jimeng.getTask(ref);
    expect(status).toMatchObject({ status: "succeeded" });
    expect(status.outputs).toHaveLength(3);
  });

  it("keeps the images of a set whose other images failed", async () => {
    const { jimeng } = await setup();
    const result = await jimeng.generate({ prompt: "set [fail-image:1]", count: 3 });
    expect(result.status.outputs).toHaveLength(2);
  });

  it("records each streamed image before the next: a cut stream keeps the images that arrived", async () => {
    const { jimeng, emulator } = await setup();
    const recorded: TaskRef[] = [];
    const ref = await jimeng.submit(
      { prompt: "three views [cut-stream:2]", count: 3 },
      { onSubmitted: (submitted) => void recorded.push(submitted) },
    );
    expect(recorded).toEqual([ref]);
    const status = await jimeng.getTask(ref);
    expect(status.status).toBe("succeeded");
    expect(status.outputs).toHaveLength(2);
    expect(emulator.counters.submits).toBe(1);
  });

  it("throws the typed error, and records no task, when the whole call fails", async () => {
    const { jimeng } = await setup();
    const recorded: TaskRef[] = [];
    const error = await rejectionOf(
      jimeng.submit(
        { prompt: "x [reject:InputTextSensitiveContentDetected]" },
        { onSubmitted: (ref) => void recorded.push(ref) },
      ),
    );
    expect(error.name).toBe("ContentPolicyError");
    expect(error.code).toBe("InputTextSensitiveContentDetected");
    expect(recorded).toEqual([]);
  });

  it("reports a failed generation as a failed task with Ark's code", async () => {
    const { jimeng } = await setup({}, { stream: false });
    const error = await rejectionOf(
      jimeng.generate({ prompt: "x [fail:OutputImageSensitiveContentDetected]" }),
    );
    expect(error.name).toBe("ContentPolicyError");
  });

  it("refuses before sending: an option the model does not take, too many images for a set, unknown extra fields", async () => {
    const { jimeng, emulator } = await setup();
    const seed = await rejectionOf(jimeng.submit({ prompt: "x", seed: 3 }));
    expect(seed).toBeInstanceOf(ValidationError);
    expect(seed.message).toContain("does not accept seed");
    const png = new Uint8Array(
      Buffer.from(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
        "base64",
      ),
    );
    const crowded = await rejectionOf(
      jimeng.submit({
        kind: "compose",
        prompt: "x",
        images: Array.from({ length: 10 }, () => png),
        count: 8,
      }),
    );
    expect(crowded.message).toContain("at most 15 images");
    const extra = await rejectionOf(jimeng.submit({ prompt: "x", extra: { guidance_scale: 3 } }));
    expect(extra.message).toContain("does not accept guidance_scale");
    expect(emulator.counters.requests).toBe(0);
  });

  it("sends local images as data URLs and SeedEdit's single image with size adaptive", async () => {
    const { jimeng, bodies } = await setup();
    const png = new Uint8Array(
      Buffer.from(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
        "base64",
      ),
    );
    await jimeng.submit({ kind: "compose", prompt: "make it autumn", model: "seededit-3.0", images: [png] });
    expect(bodies[0]).toMatchObject({
      model: "doubao-seededit-3-0-i2i-250628",
      image: expect.stringMatching(/^data:image\/png;base64,iVBOR/),
      size: "adaptive",
    });
  });

  it("maps the seed servers' size, quality, style and n the way their server meant them", async () => {
    const { jimeng, bodies } = await setup();
    await jimeng.submit({
      prompt: "一只橘猫",
      model: "doubao-seedream-3.0-t2i",
      size: "1024x1024",
      count: 1,
      extra: { quality: "standard", style: "anime" },
    });
    expect(bodies[0]).toEqual({
      model: "doubao-seedream-3-0-t2i-250415",
      prompt: "一只橘猫, anime style",
      size: "1024x1024",
      response_format: "url",
    });
    await jimeng.submit({ prompt: "hd fox", extra: { quality: "hd" } });
    expect(bodies[1]).toMatchObject({ model: "doubao-seedream-4-5-251128", size: "4K" });
  });

  it("sends BytePlus ids to a bytepluses.com endpoint and passes ep- endpoint ids through", async () => {
    const ark = new ArkProvider({ apiKey: "k", endpoint: "https://ark.ap-southeast.bytepluses.com/api/v3" });
    closers.push(() => ark.close());
    expect(ark.resolveModel("seedream-4-5-251128", "generate").id).toBe("doubao-seedream-4-5-251128");
    const { jimeng, bodies } = await setup({}, { endpointFamilies: { "ep-20250101-abc": "seedream-4.0" } });
    await jimeng.submit({ prompt: "x", model: "ep-20250101-abc", resolution: "1k" });
    expect(bodies[0]).toMatchObject({ model: "ep-20250101-abc", size: "1K" });
    expect(jimeng.provider.resolveModel("ep-other", "generate").id).toBe("ep-other");
  });

  it("reads a result recorded by another process from a result file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jimeng-ark-"));
    const file = join(dir, "ark-results.jsonl");
    const first = await setup({}, { results: fileResultStore(file) });
    const ref = await first.jimeng.submit({ prompt: "a fox", count: 2 });
    const later = new ArkProvider({
      apiKey: "k",
      endpoint: `${first.emulator.url}/api/v3`,
      results: fileResultStore(file),
    });
    closers.push(() => later.close());
    const status = await later.get(ref);
    expect(status.status).toBe("succeeded");
    expect(status.outputs).toHaveLength(2);
    expect(await readFile(file, "utf8")).not.toContain(first.emulator.credentials.arkApiKey);
    const unknown = await new ArkProvider({ apiKey: "k", results: fileResultStore(file) }).get({
      ...ref,
      taskId: "ark-img-gone",
    });
    expect(unknown).toMatchObject({ status: "expired", error: { code: "LOCAL_RESULT_GONE" } });
  });
});

describe("ArkProvider video", () => {
  it("creates a task with the frames' roles and polls it to a video", async () => {
    const { jimeng, bodies } = await setup();
    const result = await jimeng.generate({
      kind: "video",
      prompt: "waves",
      model: "seedance-1.5-pro",
      images: ["https://example.com/first.png", "https://example.com/last.png"],
      duration: 5,
      resolution: "720P",
      ratio: "16:9",
    });
    expect(result.status.outputs).toEqual([
      { url: expect.stringMatching(/\.mp4$/), contentType: "video/mp4" },
    ]);
    expect(result.ref.taskId).toMatch(/^cgt-/);
    expect(bodies[0]).toEqual({
      model: "doubao-seedance-1-5-pro-251215",
      content: [
        { type: "text", text: "waves" },
        { type: "image_url", image_url: { url: "https://example.com/first.png" }, role: "first_frame" },
        { type: "image_url", image_url: { url: "https://example.com/last.png" }, role: "last_frame" },
      ],
      ratio: "16:9",
      duration: 5,
      resolution: "720p",
    });
  });

  it("sends reference images with their role on lite-i2v and refuses them elsewhere", async () => {
    const { jimeng, bodies, emulator } = await setup();
    const images = ["https://example.com/a.png", "https://example.com/b.png", "https://example.com/c.png"];
    await jimeng.submit({
      kind: "video",
      prompt: "a",
      model: "seedance-1.0-lite-i2v",
      images,
      extra: { roles: ["reference_image", "reference_image", "reference_image"] },
    });
    expect(((bodies[0]?.content ?? []) as { role?: string }[]).slice(1).map((item) => item.role)).toEqual([
      "reference_image",
      "reference_image",
      "reference_image",
    ]);
    const refused = await rejectionOf(
      jimeng.submit({
        kind: "video",
        prompt: "a",
        model: "seedance-1.5-pro",
        images: images.slice(0, 1),
        extra: { roles: ["reference_image"] },
      }),
    );
    expect(refused.message).toContain("takes no reference images");
    expect(emulator.counters.submits).toBe(1);
  });

  it("cancels a queued task through Jimeng.cancel; the wait then ends as cancelled", async () => {
    let now = 5_000_000;
    const { jimeng } = await setup({ clock: () => now, queueShare: 0.5 });
    const ref = await jimeng.submit({ kind: "video", prompt: "slow" });
    await jimeng.cancel(ref);
    now += 1000;
    const error = await rejectionOf(jimeng.waitFor(ref, { timeout: 5000 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.state).toBe("cancelled");
  });

  it("says an image call cannot be cancelled", async () => {
    const { jimeng } = await setup();
    const ref = await jimeng.submit({ prompt: "x" });
    expect((await rejectionOf(jimeng.cancel(ref))).code).toBe("CANCEL_UNSUPPORTED");
  });
});
