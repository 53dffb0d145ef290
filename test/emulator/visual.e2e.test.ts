/** Client ↔ emulator over loopback: every model family, the error mappings, retries and re-signing. */
import { afterEach, describe, expect, it } from "vitest";
import type { EmulatorOptions } from "../../src/emulator/server.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { visualRoutes } from "../../src/emulator/visual-routes.js";
import {
  AuthError,
  ContentPolicyError,
  NetworkError,
  RateLimitError,
  ValidationError,
} from "../../src/errors.js";
import type { ProviderRequest, ResolvedImage } from "../../src/providers/types.js";
import { resolveVisualModel } from "../../src/providers/visual/catalog.js";
import { VisualClient, type VisualClientOptions } from "../../src/providers/visual/client.js";
import { isResubmittable } from "../../src/providers/visual/errors.js";
import { VisualProvider } from "../../src/providers/visual/provider.js";
import { VolcSigner } from "../../src/signing/volc-signer.js";
import { rejectionOf } from "../helpers/http-server.js";

const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

interface RawRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A request signed by the project's signer, sent without the client (to reach the emulator's own checks). */
function signedRaw(target: RunningEmulator, action: string, body: unknown): RawRequest {
  const url = new URL(`${target.url}/?Action=${action}&Version=2022-08-31`);
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host, "content-type": "application/json" };
  const signer = new VolcSigner({ credentials: target.credentials, region: "cn-north-1", service: "cv" });
  const signed = signer.sign({
    method: "POST",
    query: Object.fromEntries(url.searchParams),
    headers,
    body: text,
  });
  return { url: url.href, headers: { ...headers, ...signed.headers }, body: text };
}

async function send(raw: RawRequest): Promise<{ status: number; json: unknown }> {
  const { host: _host, ...headers } = raw.headers;
  const response = await fetch(raw.url, { method: "POST", headers, body: raw.body });
  return { status: response.status, json: await response.json() };
}

function rawPost(target: RunningEmulator, action: string, body: unknown) {
  return send(signedRaw(target, action, body));
}

let emulator: RunningEmulator | undefined;
const clients: VisualClient[] = [];
let emulatorTime = 1_000_000;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await emulator?.stop();
  emulator = undefined;
});

async function setup(options: EmulatorOptions = {}, clientOptions: Partial<VisualClientOptions> = {}) {
  emulatorTime = 1_000_000;
  emulator = await startEmulator({
    routes: [visualRoutes],
    durations: { image: 1000, video: 1000 },
    queueShare: 0.5,
    clock: () => emulatorTime,
    ...options,
  });
  const client = new VisualClient({
    ...emulator.credentials,
    endpoint: emulator.url,
    sleep: async () => {},
    random: () => 0,
    ...clientOptions,
  });
  clients.push(client);
  return { emulator, client };
}

/** Moves the emulator's task clock (no real waiting). */
function advance(ms: number): void {
  emulatorTime += ms;
}

describe("Visual API end to end: submit → poll → result", () => {
  it("t2i 4.0: queued, then generating, then done with image URLs; the task id stays a 19-digit string", async () => {
    const { client } = await setup();
    const { taskId, requestId } = await client.submitTask("jimeng_t2i_v40", {
      prompt: "a fox",
      force_single: true,
    });
    expect(taskId).toMatch(/^\d{19}$/);
    expect(BigInt(taskId) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(requestId).not.toBe("");
    expect((await client.getResult("jimeng_t2i_v40", taskId)).status).toBe("in_queue");
    advance(600);
    expect((await client.getResult("jimeng_t2i_v40", taskId)).status).toBe("generating");
    advance(600);
    const done = await client.getResult("jimeng_t2i_v40", taskId);
    expect(done.status).toBe("done");
    expect(done.imageUrls).toHaveLength(1);
    expect(done.imageUrls?.[0]).toContain(`/files/${taskId}/0.png`);
  });

  it("t2i 4.6 without force_single may return a set of images", async () => {
    const { client } = await setup();
    const { taskId } = await client.submitTask("jimeng_seedream46_cvtob", { prompt: "a poster" });
    advance(2000);
    expect((await client.getResult("jimeng_seedream46_cvtob", taskId)).imageUrls).toHaveLength(2);
  });

  it("t2i 3.1 and 3.0: returnUrl false brings the image back as base64 PNG bytes", async () => {
    const { client } = await setup();
    for (const reqKey of ["jimeng_t2i_v31", "jimeng_t2i_v30"] as const) {
      const { taskId } = await client.submitTask(reqKey, { prompt: "a lake", width: 1328, height: 1328 });
      advance(2000);
      const result = await client.getResult(reqKey, taskId, { returnUrl: false });
      expect(result.imageUrls).toBeUndefined();
      const bytes = Buffer.from(result.binaryDataBase64?.[0] ?? "", "base64");
      expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    }
  });

  it("CVProcess 2.1 answers in the same call", async () => {
    const { client } = await setup({ durations: { image: 0 } });
    const result = await client.process("jimeng_high_aes_general_v21_L", {
      prompt: "a cat",
      return_url: true,
    });
    expect(result.imageUrls).toHaveLength(1);
  });

  it("i2i 3.0 accepts an inline base64 image", async () => {
    const { client } = await setup();
    const { taskId } = await client.submitTask("jimeng_i2i_v30", {
      prompt: "make it snow",
      binary_data_base64: [PNG_BASE64],
    });
    advance(2000);
    expect((await client.getResult("jimeng_i2i_v30", taskId)).status).toBe("done");
  });

  it.each([
    ["jimeng_t2v_v30", { prompt: "waves", aspect_ratio: "9:16", frames: 241 }],
    ["jimeng_t2v_v30_1080p", { prompt: "waves" }],
    ["jimeng_i2v_first_v30", { prompt: "move", image_urls: ["https://example.com/a.png"] }],
    ["jimeng_i2v_first_v30_1080", { prompt: "move", binary_data_base64: [PNG_BASE64] }],
    [
      "jimeng_i2v_first_tail_v30",
      { prompt: "morph", image_urls: ["https://example.com/a.png", "https://example.com/b.png"] },
    ],
    [
      "jimeng_i2v_first_tail_v30_1080",
      { prompt: "morph", image_urls: ["https://example.com/a.png", "https://example.com/b.png"] },
    ],
    [
      "jimeng_i2v_recamera_v30",
      {
        prompt: "orbit",
        image_urls: ["https://example.com/a.png"],
        template_id: "dynamic_orbit",
        camera_strength: "strong",
      },
    ],
    ["jimeng_ti2v_v30_pro", { prompt: "snow falls", image_urls: ["https://example.com/first.jpg"] }],
  ] as const)("video %s: done with a video URL", async (reqKey, body) => {
    const { client } = await setup();
    const { taskId } = await client.submitTask(reqKey, body as never);
    advance(2000);
    const result = await client.getResult(reqKey, taskId);
    expect(result.status).toBe("done");
    expect(result.videoUrl).toMatch(/\.mp4$/);
  });

  it("an unknown task id answers not_found", async () => {
    const { client } = await setup();
    expect((await client.getResult("jimeng_t2i_v40", "7392616336519610409")).status).toBe("not_found");
  });
});

describe("Visual API end to end: error mappings", () => {
  it.each([
    [50411, ContentPolicyError],
    [50412, ContentPolicyError],
    [50413, ContentPolicyError],
    [50518, ContentPolicyError],
    [50400, AuthError],
  ] as const)(
    "a submit rejected with %i becomes %o with code, HTTP status and request id",
    async (code, type) => {
      const { client } = await setup();
      const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: `x [reject:${code}]` }));
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ code, httpStatus: 400, retryable: false });
      expect(error.requestId).toMatch(/^\d{14}[0-9A-F]+$/);
    },
  );

  it("50400 tells the user to enable the service and attach CVFullAccess/JimengFullAccess", async () => {
    const { client } = await setup();
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x [reject:50400]" }));
    expect(error.message).toMatch(/CVFullAccess|JimengFullAccess/);
  });

  it("an output-moderation failure at poll time is a ContentPolicyError a caller may resubmit", async () => {
    const { client } = await setup();
    const { taskId } = await client.submitTask("jimeng_t2i_v40", { prompt: "x [fail:50511]" });
    advance(2000);
    const error = await rejectionOf(client.getResult("jimeng_t2i_v40", taskId));
    expect(error).toBeInstanceOf(ContentPolicyError);
    expect(error).toMatchObject({ code: 50511, httpStatus: 400, retryable: false });
    expect(isResubmittable(error)).toBe(true);
  });

  it("a wrong secret is an AuthError SignatureDoesNotMatch with HTTP 401, and the secret is not in it", async () => {
    const { client } = await setup({}, { secretAccessKey: "not-the-emulator-secret" });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: "SignatureDoesNotMatch", httpStatus: 401 });
    expect(JSON.stringify(error) + error.message).not.toContain("not-the-emulator-secret");
  });

  it("a wrong access key id is an AuthError InvalidAccessKey", async () => {
    const { client } = await setup({}, { accessKeyId: "AKLTsomeoneelse" });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toMatchObject({ name: "AuthError", code: "InvalidAccessKey", httpStatus: 401 });
  });

  it("a request signed 20 minutes ago is an AuthError InvalidTimestamp (HTTP 400) that says to sync the clock", async () => {
    const { client } = await setup({}, { clock: () => Date.now() - 20 * 60_000 });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toMatchObject({ name: "AuthError", code: "InvalidTimestamp", httpStatus: 400 });
    expect(error.message).toMatch(/clock/);
  });

  it("the client validates known req_keys before sending: nothing reaches the emulator", async () => {
    const { client, emulator } = await setup();
    const error = await rejectionOf(client.submitTask("jimeng_t2v_v30", { prompt: "x", frames: 100 as 121 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("frames");
    expect(emulator.counters.requests).toBe(0);
  });

  it("the emulator answers a body its native schema rejects with HTTP 400, code 50215, naming the field", async () => {
    const { emulator } = await setup();
    const answer = await rawPost(emulator, "CVSync2AsyncSubmitTask", {
      req_key: "jimeng_t2v_v30",
      prompt: "x",
      frames: 100,
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 50215, data: null });
    expect(String((answer.json as { message: string }).message)).toContain("frames");
  });

  it.each([
    ["body", (r: RawRequest) => ({ ...r, body: r.body.replace("fox", "cat") })],
    ["query", (r: RawRequest) => ({ ...r, url: r.url.replace("CVSync2AsyncSubmitTask", "CVProcess") })],
    ["header value", (r: RawRequest) => ({ ...r, headers: { ...r.headers, "content-type": "text/plain" } })],
  ] as const)(
    "a tampered %s gets the gateway's SignatureDoesNotMatch shape with HTTP 401",
    async (_what, tamper) => {
      const { emulator } = await setup();
      const answer = await send(
        tamper(signedRaw(emulator, "CVSync2AsyncSubmitTask", { req_key: "jimeng_t2i_v40", prompt: "fox" })),
      );
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({
        ResponseMetadata: {
          Service: "cv",
          Region: "cn-north-1",
          Version: "2022-08-31",
          Error: { Code: "SignatureDoesNotMatch", CodeN: 100010 },
        },
      });
      expect(emulator.counters.tasks).toBe(0);
    },
  );

  it("GetResult with another req_key than the submit's is a 50215 error explaining task id and req_key", async () => {
    const { client } = await setup();
    const { taskId } = await client.submitTask("jimeng_t2i_v40", { prompt: "x" });
    const error = await rejectionOf(client.getResult("jimeng_t2i_v31", taskId));
    expect(error).toMatchObject({ name: "ApiError", code: 50215, httpStatus: 400 });
    expect(error.message).toMatch(/req_key/);
  });

  it("a throttled submit (50429) is retried and succeeds; RateLimitError once retries run out", async () => {
    const { client, emulator } = await setup({ faults: { submit: { throttleQps: 1 } } }, { maxRetries: 2 });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 50429, httpStatus: 429 });
    expect(emulator.counters.submits).toBe(3);
  });

  it("concurrency throttling (50430) is a RateLimitError", async () => {
    const { client } = await setup({ faults: { maxConcurrentTasks: 1 } }, { maxRetries: 0 });
    await client.submitTask("jimeng_t2i_v40", { prompt: "first" });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "second" }));
    expect(error).toMatchObject({ name: "RateLimitError", code: 50430, httpStatus: 429 });
  });
});

describe("Visual API end to end: retries", () => {
  it("a submit answered with HTTP 500 / 50500 is not retried (it may have been billed)", async () => {
    const { client, emulator } = await setup({ faults: { submit: { serverError: 1 } } });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toMatchObject({ name: "ApiError", code: 50500, httpStatus: 500, retryable: false });
    expect(emulator.counters.submits).toBe(1);
  });

  it("a submit whose connection was reset after sending is not retried", async () => {
    const { client, emulator } = await setup({ faults: { submit: { reset: 1 } } });
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(emulator.counters.submits).toBe(1);
  });

  it("a poll answered with 50500 or a reset is retried, re-signed with a fresh X-Date each time", async () => {
    const xDates: string[] = [];
    let now = Date.parse("2026-01-02T03:04:05Z");
    const { client, emulator } = await setup(
      { faults: { poll: { serverError: 0.5, reset: 0.5 } } },
      {
        maxRetries: 3,
        clock: () => now,
        sleep: async (ms) => {
          now += ms + 1000;
        },
        onDebug: (event) => {
          if (event.type === "request") xDates.push(event.headers["X-Date"] ?? "");
        },
      },
    );
    // The emulator checks X-Date against real time: keep the signing clock near it.
    now = Date.now();
    const error = await rejectionOf(client.getResult("jimeng_t2i_v40", "7392616336519610409"));
    expect(emulator.counters.polls).toBe(4);
    expect(["ApiError", "NetworkError"]).toContain(error.name);
    expect(new Set(xDates).size).toBe(4);
  });

  it("a poll recovers when a fault clears up", async () => {
    const { client, emulator } = await setup(
      { faults: { poll: { serverError: 0.5 } }, seed: 7 },
      { maxRetries: 10 },
    );
    const result = await client.getResult("jimeng_t2i_v40", "7392616336519610409");
    expect(result.status).toBe("not_found");
    expect(emulator.counters.faults["server-error"] ?? 0).toBeGreaterThan(0);
  });
});

describe("VisualProvider against the emulator", () => {
  function request(model: string, fields: Partial<ProviderRequest> = {}): ProviderRequest {
    const capability = resolveVisualModel(model, fields.kind ?? "generate");
    return { kind: "generate", prompt: "a fox", model: capability, images: [], ...fields };
  }

  it("submit calls onSubmitted before returning; get maps in_queue → queued → running → succeeded", async () => {
    const { emulator } = await setup();
    const provider = new VisualProvider({ ...emulator.credentials, endpoint: emulator.url });
    const seen: string[] = [];
    const ref = await provider.submit(request("jimeng-4.0", { count: 1, ratio: "16:9" }), {
      onSubmitted: (r) => {
        seen.push(r.taskId);
      },
    });
    expect(seen).toEqual([ref.taskId]);
    expect(ref).toMatchObject({ provider: "visual", model: "jimeng_t2i_v40", kind: "generate" });
    expect((await provider.get(ref)).status).toBe("queued");
    advance(600);
    expect((await provider.get(ref)).status).toBe("running");
    advance(600);
    const done = await provider.get(ref);
    expect(done).toMatchObject({ status: "succeeded", outputs: [{ contentType: "image/png" }] });
    await provider.close();
  });

  it("a task that fails moderation is a failed status with code, message and request id", async () => {
    const { emulator } = await setup();
    const provider = new VisualProvider({ ...emulator.credentials, endpoint: emulator.url });
    const ref = await provider.submit(
      request("jimeng-video-3.0", { kind: "video", prompt: "x [fail:50516]" }),
    );
    advance(2000);
    const status = await provider.get(ref);
    expect(status.status).toBe("failed");
    if (status.status !== "failed") return;
    expect(status.error).toMatchObject({ code: 50516 });
    expect(status.error.requestId).toBeTruthy();
    await provider.close();
  });

  it("an unknown task is expired", async () => {
    const { emulator } = await setup();
    const provider = new VisualProvider({ ...emulator.credentials, endpoint: emulator.url });
    const ref = await provider.submit(request("jimeng-3.1"));
    const status = await provider.get({ ...ref, taskId: "7392616336519610408" });
    expect(status.status).toBe("expired");
    await provider.close();
  });

  it("a CVProcess model submits synchronously and get returns the kept result for a local task id", async () => {
    const { emulator } = await setup({ durations: { image: 0 } });
    const provider = new VisualProvider({ ...emulator.credentials, endpoint: emulator.url });
    const ref = await provider.submit(request("jimeng-2.1", { ratio: "4:3" }));
    expect(ref.taskId).toMatch(/^local-/);
    const status = await provider.get(ref);
    expect(status.status).toBe("succeeded");
    // Inline outputs carry no guessed type: the media layer names it from the bytes when it saves them.
    expect(status.outputs[0]).toEqual({ base64: expect.any(String) });
    await provider.close();
  });

  it("i2i with a local file sends it inline and succeeds", async () => {
    const { emulator } = await setup();
    const provider = new VisualProvider({ ...emulator.credentials, endpoint: emulator.url });
    const image: ResolvedImage = {
      source: "bytes",
      bytes: Buffer.from(PNG_BASE64, "base64"),
      format: "png",
      width: 1024,
      height: 1024,
      name: "in.png",
    };
    const ref = await provider.submit(request("jimeng-i2i-3.0", { kind: "compose", images: [image] }));
    advance(2000);
    expect((await provider.get(ref)).status).toBe("succeeded");
    await provider.close();
  });
});

describe("visualRoutes", () => {
  it("leaves requests that are not POST /?Action=… to other halves", async () => {
    const core = {} as never;
    const get = await visualRoutes(
      { method: "GET", url: new URL("http://x/?Action=CVProcess"), headers: {}, body: Buffer.alloc(0) },
      core,
    );
    const session = await visualRoutes(
      { method: "POST", url: new URL("http://x/v1/images/generations"), headers: {}, body: Buffer.alloc(0) },
      core,
    );
    expect(get).toBeUndefined();
    expect(session).toBeUndefined();
  });
});
