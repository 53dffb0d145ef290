import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../../src/emulator/server.js";
import { sessionRoutes } from "../../../src/emulator/session-routes.js";
import {
  AbortError,
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  type JimengError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from "../../../src/errors.js";
import type { DebugEvent, RetryEvent } from "../../../src/http/transport.js";
import { SessionClient, type SessionClientOptions } from "../../../src/providers/session/client.js";
import { rejectionOf, sendJson, startServer } from "../../helpers/http-server.js";

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001", "hex");
const SESSIONS = "good-one,good-two,us-good-three,hk-good-four,secret-good-five";

let emulator: RunningEmulator | undefined;
const clients: SessionClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await emulator?.stop();
  emulator = undefined;
});

interface Setup {
  emulator: RunningEmulator;
  client: SessionClient;
  clock: { now: number };
  debug: DebugEvent[];
  retries: RetryEvent[];
}

/** An emulator with only the session half, on a clock the test moves, and a client for it. */
async function setup(
  clientOptions: Partial<SessionClientOptions> = {},
  emulatorOptions: EmulatorOptions = {},
): Promise<Setup> {
  const clock = { now: 5_000_000 };
  emulator = await startEmulator({
    routes: [sessionRoutes],
    clock: () => clock.now,
    durations: { image: 1000, video: 1000 },
    credentials: { sessionId: SESSIONS },
    ...emulatorOptions,
  });
  const debug: DebugEvent[] = [];
  const retries: RetryEvent[] = [];
  const client = new SessionClient({
    sessionId: "good-one",
    endpoint: emulator.url,
    onDebug: (event) => debug.push(event),
    onRetry: (event) => retries.push(event),
    sleep: async () => {},
    ...clientOptions,
  });
  clients.push(client);
  return { emulator, client, clock, debug, retries };
}

function requestsTo(debug: DebugEvent[], fragment: string): number {
  return debug.filter((e) => e.type === "request" && e.url.includes(fragment)).length;
}

describe("SessionClient blocking routes", () => {
  it("generates images and keeps the first `count` of the four upstream makes", async () => {
    const { client } = await setup({}, { clock: Date.now, durations: { image: 5 } });
    const all = await client.images.generate({ prompt: "a cat", ratio: "16:9", resolution: "1k" });
    expect(all.data).toHaveLength(4);
    expect(all.data[0]).toEqual({ url: expect.stringMatching(/\/files\/\d+\/0\.png$/) });
    const one = await client.images.generate({ prompt: "a cat", count: 1, response_format: "b64_json" });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]).toHaveProperty("b64_json");
  });

  it("composes from URLs as JSON and from local files and bytes as multipart", async () => {
    const { client, debug } = await setup({}, { clock: Date.now, durations: { image: 5 } });
    const byUrl = await client.images.compose({
      prompt: "blend",
      images: ["https://img.test/a.png", { url: "https://img.test/b.png" }],
    });
    expect(byUrl).toMatchObject({ input_images: 2, composition_type: "multi_image_synthesis" });
    expect(byUrl.data).toHaveLength(1);

    const dir = await mkdtemp(join(tmpdir(), "jimeng-session-"));
    try {
      const file = join(dir, "cat.png");
      await writeFile(file, PNG);
      const local = await client.images.compose({
        prompt: "blend",
        images: [file, PNG, { bytes: PNG, name: "c.png" }],
      });
      expect(local.input_images).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(requestsTo(debug, "/v1/images/compositions")).toBe(2);
  });

  it("refuses a missing file, empty bytes and more than 10 images before sending anything", async () => {
    const { client, debug } = await setup();
    await expect(client.images.compose({ prompt: "x", images: ["/nonexistent/cat.png"] })).rejects.toThrow(
      /no readable file at cat\.png/,
    );
    await expect(client.images.compose({ prompt: "x", images: [new Uint8Array()] })).rejects.toThrow(
      ValidationError,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => `https://img.test/${i}.png`);
    await expect(client.images.compose({ prompt: "x", images: eleven })).rejects.toThrow(/at most 10/);
    expect(debug).toHaveLength(0);
  });

  it("generates a video from first and last frames and returns its URL and revised prompt", async () => {
    const { client } = await setup({}, { clock: Date.now, durations: { video: 5 } });
    const video = await client.videos.generate({
      prompt: "a cat walks",
      model: "jimeng-video-3.0",
      resolution: "1080p",
      duration: 10,
      images: [PNG, PNG],
    });
    expect(video.data).toEqual([{ url: expect.stringMatching(/\.mp4$/), revised_prompt: "a cat walks" }]);
  });

  it("honours a per-call timeout on the long blocking routes", async () => {
    const { client } = await setup({}, { clock: Date.now, durations: { image: 10_000 } });
    const error = await rejectionOf(client.images.generate({ prompt: "slow" }, { timeout: 100 }));
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it("stops waiting on a blocking route when the caller aborts", async () => {
    const controller = new AbortController();
    const { client } = await setup(
      // Abort once the request is on its way (the transport's own signal exists from the next tick on).
      { onDebug: (event) => event.type === "request" && setImmediate(() => controller.abort()) },
      { clock: Date.now, durations: { image: 60_000 } },
    );
    const error = await rejectionOf(
      client.images.generate({ prompt: "slow" }, { signal: controller.signal }),
    );
    expect(error).toBeInstanceOf(AbortError);
  });

  it("maps a failed generation with fail_code 2038 to ContentPolicyError and 1017 to ApiError with a hint", async () => {
    const { client } = await setup({}, { clock: Date.now, durations: { image: 5, video: 5 } });
    const rejected = await rejectionOf(client.images.generate({ prompt: "x [fail:2038]" }));
    expect(rejected).toBeInstanceOf(ContentPolicyError);
    expect(rejected.code).toBe(-2007);
    const network = await rejectionOf(client.videos.generate({ prompt: "x [fail:1017]" }));
    expect(network.constructor).toBe(ApiError);
    expect(network.code).toBe(-2008);
    expect(network.hint).toMatch(/TUN/);
  });
});

describe("SessionClient async routes", () => {
  it("submits, then reads running and finished states (split style detected and remembered)", async () => {
    const { client, clock, debug } = await setup({}, { sessionQueryStyle: "split" });
    const { historyId, session } = await client.submit("image", { prompt: "a cat", count: 2 });
    expect(historyId).toMatch(/^\d{13}$/);
    expect(session).toBe("session #1 (cn)");
    expect(await client.query(historyId)).toMatchObject({ historyId, status: 20, results: null });
    clock.now += 1000;
    const done = await client.query(historyId);
    expect([10, 50]).toContain(done.status);
    expect(done.taskType).toBe("image");
    expect(done.results).toHaveLength(2);
    expect(requestsTo(debug, "/v1/async/tasks/")).toBe(0);
  });

  it("falls back to the generic query route on a server without split routes, once", async () => {
    const { client, clock, debug } = await setup({}, { sessionQueryStyle: "generic" });
    const { historyId } = await client.submit("video", {
      prompt: "a cat walks",
      model: "jimeng-video-3.5-pro",
    });
    clock.now += 1000;
    const first = await client.query(historyId);
    expect(first).toMatchObject({ status: 10, taskType: "video", failCode: null });
    expect(first.results?.[0]?.url).toMatch(/\.mp4$/);
    await client.query(historyId);
    expect(requestsTo(debug, "/v1/async/videos/tasks/")).toBe(1);
    expect(requestsTo(debug, "/v1/async/tasks/")).toBe(2);
  });

  it("reads status 50 and partial results (30 with items) on the split style", async () => {
    const { client, clock } = await setup({}, { sessionQueryStyle: "split" });
    const fifty = await client.submit("image", { prompt: "p [done:50]" });
    const partial = await client.submit("image", { prompt: "p [partial]" });
    clock.now += 1000;
    expect(await client.query(fifty.historyId)).toMatchObject({ status: 50 });
    const half = await client.query(partial.historyId);
    expect(half).toMatchObject({ status: 30, failCode: "2038" });
    expect(half.results).toHaveLength(2);
  });

  it("finds partial results in the raw record on the generic style, and failures with their fail_code", async () => {
    const { client, clock } = await setup({}, { sessionQueryStyle: "generic" });
    const partial = await client.submit("image", { prompt: "p [partial]" });
    const failed = await client.submit("compose", {
      prompt: "p [fail:121212]",
      images: ["https://img.test/a.png"],
    });
    clock.now += 1000;
    expect((await client.query(partial.historyId)).results).toHaveLength(2);
    expect(await client.query(failed.historyId)).toMatchObject({
      status: 30,
      failCode: "121212",
      results: null,
    });
  });

  it("posts compositions of local bytes as multipart to the async route", async () => {
    const { client, clock } = await setup();
    const { historyId } = await client.submit("compose", { prompt: "blend", images: [PNG, PNG] });
    clock.now += 1000;
    expect((await client.query(historyId)).results).toHaveLength(1);
  });

  it("queries a task submitted elsewhere with the session named by its account hash", async () => {
    const { client, emulator } = await setup({ sessionId: "good-one,good-two" });
    await client.submit("image", { prompt: "first" });
    const second = await client.submit("image", { prompt: "second" });
    expect(second.session).toBe("session #2 (cn)");
    const other = new SessionClient({ sessionId: "good-one,good-two", endpoint: emulator.url });
    clients.push(other);
    expect(await other.query(second.historyId, { account: second.account })).toMatchObject({ status: 20 });
    await expect(other.query(second.historyId)).rejects.toMatchObject({ code: -2007 });
  });

  it("retries a throttled submit (the server refused it) but never a submit that hit a server error", async () => {
    const throttled = await setup({ maxRetries: 2 }, { faults: { submit: { throttleQps: 1 } } });
    expect(await rejectionOf(throttled.client.submit("image", { prompt: "p" }))).toBeInstanceOf(
      RateLimitError,
    );
    expect(throttled.emulator.counters.submits).toBe(3);
    await throttled.emulator.stop();

    const failing = await setup({ maxRetries: 2 }, { faults: { submit: { serverError: 1 } } });
    const error = await rejectionOf(failing.client.submit("image", { prompt: "p" }));
    expect(error).toMatchObject({ code: -1000 });
    expect(failing.emulator.counters.submits).toBe(1);
  });

  it("retries queries on server errors, since looking costs nothing", async () => {
    const { client, emulator } = await setup(
      { maxRetries: 2, queryStyle: "generic" },
      { faults: { poll: { serverError: 1 } } },
    );
    const { historyId } = await client.submit("image", { prompt: "p" });
    expect(await rejectionOf(client.query(historyId))).toMatchObject({ code: -1000 });
    expect(emulator.counters.polls).toBe(3);
  });
});

describe("SessionClient sessions", () => {
  it("sends exactly one session per request, round-robin", async () => {
    const { client } = await setup({ sessionId: ["good-one", "good-two,us-good-three"] });
    const labels = [];
    for (let i = 0; i < 4; i++) labels.push((await client.submit("image", { prompt: `p${i}` })).session);
    expect(labels).toEqual(["session #1 (cn)", "session #2 (cn)", "session #3 (us)", "session #1 (cn)"]);
  });

  it("moves an expired session's request to the next session and skips it afterwards", async () => {
    const { client, debug, retries, emulator } = await setup({ sessionId: "expired-rotate-1,good-two" });
    const first = await client.submit("image", { prompt: "first" });
    expect(first.session).toBe("session #2 (cn)");
    expect(retries.map((r) => r.reason)).toEqual(["session #1 (cn) expired (-2002); trying session #2 (cn)"]);
    await client.submit("image", { prompt: "second" });
    expect(requestsTo(debug, "/v1/async/images/generations")).toBe(3);
    expect(emulator.counters.tasks).toBe(2);
    expect(client.sessions().map((s) => s.expired)).toEqual([true, false]);
  });

  it("throws AuthError with the way to get a fresh sessionid when every session expired", async () => {
    const { client } = await setup({ sessionId: "expired-all-1,expired-all-2" });
    const error = await rejectionOf(client.images.generate({ prompt: "p" }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.hint).toMatch(/dreamina\.capcut\.com.*sessionid/);
    await expect(client.submit("image", { prompt: "p" })).rejects.toThrow(/every session has expired/);
  });

  it("checks model availability per region before sending, and picks a session that offers the model", async () => {
    const { client, debug } = await setup({ sessionId: "us-good-three" });
    const error = await rejectionOf(client.submit("image", { prompt: "p", model: "jimeng-5.0" }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(
      /jimeng-5\.0 is not offered to us sessions; it needs a session from cn, hk, jp, sg/,
    );
    expect(debug).toHaveLength(0);

    const mixed = new SessionClient({ sessionId: "good-one,hk-good-four", endpoint: emulator?.url ?? "" });
    clients.push(mixed);
    expect((await mixed.submit("image", { prompt: "p", model: "nanobananapro" })).session).toBe(
      "session #2 (hk)",
    );
    expect((await mixed.submit("video", { prompt: "p", model: "jimeng-video-veo3" })).session).toBe(
      "session #2 (hk)",
    );
  });

  it("never shows a session id in errors, retry reasons or debug events", async () => {
    const secret = "secret-good-five";
    const { client, debug, retries } = await setup({ sessionId: `expired-secret-xyz,${secret}` });
    await client.submit("image", { prompt: "p" });
    const error = await rejectionOf(client.submit("image", { prompt: "p [reject:-2002]" }));
    const printed = JSON.stringify([
      debug,
      retries,
      (error as unknown as JimengError).toJSON(),
      error.message,
      error.hint,
    ]);
    expect(printed).not.toContain(secret);
    expect(printed).not.toContain("expired-secret-xyz");
    expect(printed).toContain("[redacted]");
  });
});

describe("SessionClient error envelopes", () => {
  it.each([
    [-2009, "InsufficientCreditsError", InsufficientCreditsError],
    [-2006, "ContentPolicyError", ContentPolicyError],
    [-2000, "ApiError", ApiError],
    [-2001, "ApiError", ApiError],
    [-1000, "ApiError", ApiError],
    [-2007, "ApiError", ApiError],
  ])("maps code %i at submit to %s", async (code, _name, type) => {
    const { client, emulator } = await setup();
    const error = await rejectionOf(client.submit("image", { prompt: `p [reject:${code}]` }));
    expect(error).toBeInstanceOf(type);
    expect(error.code).toBe(code);
    expect(emulator.counters.tasks).toBe(0);
  });

  it("reports a history id the server does not know as -2007", async () => {
    const { client } = await setup();
    const error = await rejectionOf(client.query("123", { kind: "image" }));
    expect(error.code).toBe(-2007);
  });
});

describe("SessionClient token routes", () => {
  it("checks every session and explains why international ones read false", async () => {
    const { client } = await setup({ sessionId: "good-one,us-good-three,expired-token-1" });
    const checks = await client.token.check();
    expect(checks.map((c) => [c.session, c.live])).toEqual([
      ["session #1 (cn)", true],
      ["session #2 (us)", false],
      ["session #3 (cn)", false],
    ]);
    expect(checks[1]?.note).toMatch(/#78/);
  });

  it("reads points per session, one request each, without echoing the token", async () => {
    const { client, debug } = await setup({ sessionId: "good-one,expired-points-1" });
    const points = await client.token.points();
    expect(points[0]).toMatchObject({ session: "session #1 (cn)", points: { gift: 60, vip: 10, total: 70 } });
    expect(points[1]).toMatchObject({ session: "session #2 (cn)", error: expect.stringMatching(/expired/) });
    expect(JSON.stringify(points)).not.toContain("good-one");
    expect(requestsTo(debug, "/token/points")).toBe(2);
  });
});

describe("SessionClient against a server without the async extension", () => {
  it("says the server has no async routes instead of returning a bogus id", async () => {
    const server = await startServer((req, res) =>
      sendJson(res, 200, {
        code: -1000,
        message: `[请求有误]: 请检查API文档确认正确的请求路径，当前请求为 ${req.method} -> ${req.url} 请纠正`,
        data: null,
      }),
    );
    const client = new SessionClient({ sessionId: "plain-server", endpoint: server.url });
    clients.push(client);
    try {
      await expect(client.submit("image", { prompt: "p" })).rejects.toThrow(/no async submit routes/);
      await expect(client.query("123")).rejects.toThrow(/no async query routes/);
      expect(server.requests.map((r) => r.url)).toEqual([
        "/v1/async/images/generations",
        "/v1/async/images/tasks/123",
        "/v1/async/tasks/123",
      ]);
    } finally {
      await server.close();
    }
  });
});
