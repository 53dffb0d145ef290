/** ArkClient ↔ the emulator's Ark half over loopback: shapes, streaming, video tasks, errors and retries. */
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../../src/emulator/server.js";
import {
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  NetworkError,
  RateLimitError,
  ValidationError,
} from "../../../src/errors.js";
import { ArkClient, type ArkClientOptions } from "../../../src/providers/ark/client.js";
import { rejectionOf } from "../../helpers/http-server.js";

let emulator: RunningEmulator | undefined;
const clients: ArkClient[] = [];
/** The emulator's task clock (ms): video tests move it instead of sleeping. */
let now = 1_000_000;
const clock = () => now;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await emulator?.stop();
  emulator = undefined;
});

async function setup(options: EmulatorOptions = {}, client: Partial<ArkClientOptions> = {}) {
  emulator = await startEmulator({ durations: { image: 40, video: 60 }, ...options });
  const ark = new ArkClient({
    apiKey: emulator.credentials.arkApiKey,
    endpoint: `${emulator.url}/api/v3`,
    sleep: async () => {},
    ...client,
  });
  clients.push(ark);
  return { emulator, ark };
}

describe("ArkClient images", () => {
  it("generates one image synchronously with Ark's answer shape and the request id", async () => {
    const { ark } = await setup();
    const answer = await ark.images.generate({
      model: "doubao-seedream-3-0-t2i-250415",
      prompt: "a fox",
      size: "1024x1024",
    });
    expect(answer.data).toHaveLength(1);
    expect(answer.data[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
    expect(answer.data[0]?.size).toBe("1024x1024");
    expect(answer.usage?.generated_images).toBe(1);
    expect(answer.requestId).toMatch(/^\d{14}[0-9a-f]{18}$/);
  });

  it("asks 4.x for a set and streams one event per image, in order, before the answer returns", async () => {
    const { ark } = await setup();
    const seen: string[] = [];
    const answer = await ark.images.generate(
      {
        model: "doubao-seedream-4-5-251128",
        prompt: "four seasons [fail-image:2]",
        sequential_image_generation: "auto",
        sequential_image_generation_options: { max_images: 4 },
        stream: true,
      },
      {
        onEvent: (event) =>
          void seen.push(`${event.type}${"image_index" in event ? `:${event.image_index}` : ""}`),
      },
    );
    expect(seen).toEqual([
      "image_generation.partial_succeeded:0",
      "image_generation.partial_succeeded:1",
      "image_generation.partial_failed:2",
      "image_generation.partial_succeeded:3",
      "image_generation.completed",
    ]);
    expect(answer.data.map((item) => (item.url ? "url" : item.error?.code))).toEqual([
      "url",
      "url",
      "OutputImageSensitiveContentDetected",
      "url",
    ]);
    expect(answer.usage?.generated_images).toBe(3);
  });

  it("refuses a field the wire schema does not know before sending", async () => {
    const { ark, emulator } = await setup();
    const error = await rejectionOf(
      ark.images.generate({ model: "doubao-seedream-4-5-251128", prompt: "x", n: 2 } as never),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as unknown as ValidationError).issues[0]?.path).toBe("n");
    expect(emulator.counters.requests).toBe(0);
  });

  it("gets Ark's 400 for a field the model does not support (seed on 4.x), with code, status and request id", async () => {
    const { ark } = await setup();
    const error = await rejectionOf(
      ark.images.generate({ model: "doubao-seedream-4-5-251128", prompt: "x", seed: 3 }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      provider: "ark",
      httpStatus: 400,
      code: "InvalidParameter",
      retryable: false,
    });
    expect((error as unknown as ApiError).requestId).toMatch(/^\d{14}/);
  });

  it("maps Ark's error codes onto the error tree", async () => {
    const { ark } = await setup();
    const cases: [string, unknown][] = [
      ["InputTextSensitiveContentDetected", ContentPolicyError],
      ["AccountOverdueError", InsufficientCreditsError],
      ["ModelNotOpen", AuthError],
      ["AccessDenied", AuthError],
    ];
    for (const [code, kind] of cases) {
      const error = await rejectionOf(
        ark.images.generate({ model: "doubao-seedream-3-0-t2i-250415", prompt: `x [reject:${code}]` }),
      );
      expect(error, code).toBeInstanceOf(kind);
      expect((error as unknown as ApiError).code).toBe(code);
    }
  });

  it("says AuthenticationError for a wrong key, without the key in the error", async () => {
    const { ark } = await setup({}, { apiKey: "wrong-key-1234" });
    const error = await rejectionOf(ark.videos.list({ pageSize: 1 }));
    expect(error).toBeInstanceOf(AuthError);
    expect(JSON.stringify((error as unknown as AuthError).toJSON())).not.toContain("wrong-key-1234");
    expect((error as unknown as AuthError).hint ?? (error as Error).message).toContain("ARK_API_KEY");
  });

  it("retries a throttled image submit but never one that failed with a 5xx (it may have been billed)", async () => {
    const throttled = await setup({ faults: { submit: { throttleQps: 1 } } }, { maxRetries: 2 });
    const error = await rejectionOf(
      throttled.ark.images.generate({ model: "doubao-seedream-3-0-t2i-250415", prompt: "x" }),
    );
    expect(error).toBeInstanceOf(RateLimitError);
    expect(throttled.emulator.counters.submits).toBe(3);
    await throttled.emulator.stop();
    await throttled.ark.close();
    emulator = undefined;

    const failing = await setup({ faults: { submit: { serverError: 1 } } }, { maxRetries: 2 });
    const failure = await rejectionOf(
      failing.ark.images.generate({ model: "doubao-seedream-3-0-t2i-250415", prompt: "x" }),
    );
    expect(failure).toMatchObject({ httpStatus: 500, code: "InternalServiceError" });
    expect(failing.emulator.counters.submits).toBe(1);
  });

  it("does not repeat an image call whose connection was cut (an uncertain, possibly billed submit)", async () => {
    const { ark, emulator } = await setup({ faults: { submit: { reset: 1 } } }, { maxRetries: 3 });
    const error = await rejectionOf(
      ark.images.generate({ model: "doubao-seedream-3-0-t2i-250415", prompt: "x" }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as unknown as NetworkError).notSent).toBe(false);
    expect(emulator.counters.submits).toBe(1);
  });
});

describe("ArkClient video tasks", () => {
  it("creates, polls to succeeded, lists and deletes a finished task's record", async () => {
    const { ark } = await setup({ clock });
    const { id } = await ark.videos.create({
      model: "doubao-seedance-1-0-pro-250528",
      content: [{ type: "text", text: "waves at dusk" }],
      ratio: "16:9",
      duration: 5,
    });
    expect(id).toMatch(/^cgt-\d{14}-/);
    expect((await ark.videos.get(id)).status).toBe("queued");
    now += 30;
    expect((await ark.videos.get(id)).status).toBe("running");
    now += 100;
    const done = await ark.videos.get(id);
    expect(done.status).toBe("succeeded");
    expect(done.content?.video_url).toMatch(/\.mp4$/);
    const list = await ark.videos.list({ pageSize: 5, status: "succeeded" });
    expect(list.items.map((task) => task.id)).toContain(id);
    await ark.videos.cancel(id);
    expect(await rejectionOf(ark.videos.get(id))).toMatchObject({
      httpStatus: 404,
      code: "ResourceNotFound",
    });
  });

  it("cancels a queued task and refuses to cancel a running one", async () => {
    const { ark } = await setup({ clock, queueShare: 0.5 });
    const body = { model: "doubao-seedance-1-0-pro-250528", content: [{ type: "text" as const, text: "a" }] };
    const queued = await ark.videos.create(body);
    const running = await ark.videos.create(body);
    await ark.videos.cancel(queued.id);
    expect((await ark.videos.get(queued.id)).status).toBe("cancelled");
    expect(await rejectionOf(ark.videos.cancel(queued.id))).toMatchObject({
      httpStatus: 400,
      code: "InvalidParameter",
    });
    now += 40;
    expect((await ark.videos.get(running.id)).status).toBe("running");
    expect(await rejectionOf(ark.videos.cancel(running.id))).toMatchObject({ httpStatus: 400 });
    now += 100;
    expect((await ark.videos.get(queued.id)).status).toBe("cancelled");
  });

  it("refuses creates past the account's queued-task cap with TooManyRequests", async () => {
    const { ark } = await setup(
      { durations: { video: 60_000 }, queueShare: 1, arkQueuedTaskCap: 2 },
      { maxRetries: 0 },
    );
    const body = {
      model: "doubao-seedance-1-0-lite-t2v-250428",
      content: [{ type: "text" as const, text: "a" }],
    };
    await ark.videos.create(body);
    await ark.videos.create(body);
    expect(await rejectionOf(ark.videos.create(body))).toBeInstanceOf(RateLimitError);
  });

  it("reports failed and expired tasks with their codes", async () => {
    const { ark } = await setup({ clock });
    const failed = await ark.videos.create({
      model: "doubao-seedance-1-0-pro-250528",
      content: [{ type: "text", text: "x [fail:OutputVideoSensitiveContentDetected]" }],
    });
    const expired = await ark.videos.create({
      model: "doubao-seedance-1-0-pro-250528",
      content: [{ type: "text", text: "x [expire]" }],
    });
    now += 100;
    expect(await ark.videos.get(failed.id)).toMatchObject({
      status: "failed",
      error: { code: "OutputVideoSensitiveContentDetected" },
    });
    expect((await ark.videos.get(expired.id)).status).toBe("expired");
  });
});
