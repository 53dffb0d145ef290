import { FormData, Response } from "undici";
import { describe, expect, it } from "vitest";
import { EmulatorCoreImpl, type EmulatorCoreOptions } from "../../src/emulator/core.js";
import { sessionRoutes } from "../../src/emulator/session-routes.js";
import type { EmulatorReply } from "../../src/emulator/types.js";

const SESSIONS = "good-one,us-good-two";

function setup(options: EmulatorCoreOptions = {}) {
  const clock = { now: 1_000_000 };
  const core = new EmulatorCoreImpl({
    clock: () => clock.now,
    durations: { image: 1000, video: 1000 },
    queueShare: 0.2,
    credentials: { sessionId: SESSIONS },
    ...options,
  });
  core.baseUrl = "http://127.0.0.1:9";
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token: string | null = "good-one",
  ): Promise<EmulatorReply | undefined> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let raw = Buffer.alloc(0);
    if (body instanceof FormData) {
      const response = new Response(body);
      raw = Buffer.from(await response.arrayBuffer());
      headers["content-type"] = response.headers.get("content-type") ?? "";
    } else if (body !== undefined) {
      raw = Buffer.from(JSON.stringify(body));
    }
    return sessionRoutes({ method, url: new URL(path, core.baseUrl), headers, body: raw }, core);
  };
  const json = async (...args: Parameters<typeof call>) => {
    const reply = await call(...args);
    if (!reply || !("json" in reply)) throw new Error(`expected a JSON reply, got ${JSON.stringify(reply)}`);
    expect(reply.status).toBe(200);
    return reply.json as Record<string, unknown>;
  };
  return { core, clock, call, json };
}

describe("session routes: service routes", () => {
  it("answers /ping with pong and / with the service info, and leaves other paths to other halves", async () => {
    const { call, json } = setup();
    expect(await call("GET", "/ping")).toMatchObject({ status: 200, body: "pong" });
    expect(await json("GET", "/")).toMatchObject({ service: "jimeng-api", status: "running" });
    expect(await call("POST", "/?Action=CVSync2AsyncSubmitTask&Version=2022-08-31")).toBeUndefined();
    expect(await call("GET", "/files/1/0.png")).toBeUndefined();
  });

  it("answers unknown /v1 routes with the -1000 envelope over HTTP 200", async () => {
    const { json } = setup();
    const body = await json("POST", "/v1/chat/completions", {});
    expect(body).toMatchObject({ code: -1000, data: null });
    expect(body.message).toContain("当前请求为 POST -> /v1/chat/completions");
  });
});

describe("session routes: auth", () => {
  it("accepts configured sessions with any region or proxy prefix, using the first of several tokens", async () => {
    const { json } = setup();
    const submit = (token: string) => json("POST", "/v1/async/images/generations", { prompt: "p" }, token);
    expect(await submit("good-one")).toHaveProperty("history_id");
    expect(await submit("socks5://127.0.0.1:1080@us-good-two")).toHaveProperty("history_id");
    expect(await submit("good-one,nobody")).toHaveProperty("history_id");
  });

  it("answers -2002 for expired- ids and unknown sessions, and -2000 without a header", async () => {
    const { json } = setup();
    expect(
      await json("POST", "/v1/async/images/generations", { prompt: "p" }, "expired-good-one"),
    ).toMatchObject({
      code: -2002,
    });
    expect(await json("POST", "/v1/async/images/generations", { prompt: "p" }, "stranger")).toMatchObject({
      code: -2002,
    });
    expect(await json("POST", "/v1/async/images/generations", { prompt: "p" }, null)).toMatchObject({
      code: -2000,
    });
  });
});

describe("session routes: validation like the server", () => {
  it("refuses size with the server's message and a missing prompt with -2000", async () => {
    const { json } = setup();
    expect(
      await json("POST", "/v1/async/images/generations", { prompt: "p", size: "1024x1024" }),
    ).toMatchObject({
      code: -1000,
      message: "不支持的参数: size。请使用 ratio 和 resolution 参数控制图像尺寸。",
    });
    expect(await json("POST", "/v1/async/images/generations", { model: "jimeng-4.0" })).toMatchObject({
      code: -2000,
    });
  });

  it("refuses nanobanana on CN and CN-only models on international sessions", async () => {
    const { json } = setup();
    expect(
      await json("POST", "/v1/async/images/generations", { prompt: "p", model: "nanobanana" }),
    ).toMatchObject({
      code: -1000,
    });
    const us = await json(
      "POST",
      "/v1/async/images/generations",
      { prompt: "p", model: "jimeng-3.1" },
      "us-good-two",
    );
    expect(us).toMatchObject({ code: -1000 });
  });

  it("allows 4/5/8/10/12 s on the async video route only within the model's own rule", async () => {
    const { json } = setup();
    const video = (duration: number) =>
      json("POST", "/v1/async/videos/generations", {
        prompt: "p",
        model: "jimeng-video-seedance-2.0",
        duration,
      });
    expect(await video(8)).toHaveProperty("history_id");
    expect(await video(7)).toMatchObject({ code: -1000 });
  });

  it("needs the images field on multipart compositions and counts the uploaded files", async () => {
    const { json } = setup();
    const empty = new FormData();
    empty.append("prompt", "p");
    expect(await json("POST", "/v1/async/images/compositions", empty)).toMatchObject({
      code: -1000,
      message: "在form-data中缺少 'images' 字段",
    });
    const form = new FormData();
    form.append("prompt", "p");
    form.append("images", new Blob([Buffer.from("a")]), "a.png");
    form.append("images", new Blob([Buffer.from("b")]), "b.png");
    expect(await json("POST", "/v1/async/images/compositions", form)).toMatchObject({ input_images: 2 });
  });

  it("refuses the prompt's [reject:CODE] at submit with that code", async () => {
    const { json, core } = setup();
    expect(await json("POST", "/v1/async/images/generations", { prompt: "p [reject:-2009]" })).toMatchObject({
      code: -2009,
    });
    expect(core.counters.tasks).toBe(0);
  });
});

describe("session routes: faults", () => {
  it("renders a server error as -1000, a throttle as -2001 with a rate message, and a reset as a dropped connection", async () => {
    const errors = setup({ faults: { submit: { serverError: 1 } } });
    expect(await errors.json("POST", "/v1/async/images/generations", { prompt: "p" })).toMatchObject({
      code: -1000,
    });
    const throttled = setup({ faults: { submit: { throttleQps: 1 } } });
    const body = await throttled.json("POST", "/v1/async/images/generations", { prompt: "p" });
    expect(body).toMatchObject({ code: -2001 });
    expect(body.message).toMatch(/rate limited/);
    const resets = setup({ faults: { poll: { reset: 1 } } });
    const created = await resets.json("POST", "/v1/async/images/generations", { prompt: "p" });
    expect(await resets.call("GET", `/v1/async/tasks/${created.history_id}`)).toEqual({ reset: true });
  });
});

describe("session routes: async status", () => {
  it("reports 20, then 42 and 45 near the end, then 10 with four images (generic style)", async () => {
    const { json, clock } = setup({ sessionQueryStyle: "generic" });
    const { history_id } = await json("POST", "/v1/async/images/generations", { prompt: "p" });
    const look = () => json("GET", `/v1/async/tasks/${history_id}`);
    expect(await look()).toMatchObject({ status: 20, task_type: "unknown", results: null });
    clock.now += 800;
    expect((await look()).status).toBe(42);
    clock.now += 150;
    expect((await look()).status).toBe(45);
    clock.now += 50;
    const done = await look();
    expect(done).toMatchObject({ status: 10, task_type: "image", item_count: 4 });
    expect(done.results).toHaveLength(4);
    expect(await json("POST", "/v1/async/tasks/query", { history_id })).toMatchObject({ status: 10 });
  });

  it("serves only the configured query style; the other answers the unknown-route envelope", async () => {
    const generic = setup({ sessionQueryStyle: "generic" });
    const a = await generic.json("POST", "/v1/async/images/generations", { prompt: "p" });
    expect(await generic.json("GET", `/v1/async/images/tasks/${a.history_id}`)).toMatchObject({
      code: -1000,
    });
    const split = setup({ sessionQueryStyle: "split" });
    const b = await split.json("POST", "/v1/async/images/generations", { prompt: "p" });
    expect(await split.json("GET", `/v1/async/tasks/${b.history_id}`)).toMatchObject({ code: -1000 });
    expect(await split.json("GET", `/v1/async/images/tasks/${b.history_id}`)).toMatchObject({ status: 20 });
  });

  it("reports 50 on the split style when told to, and 30 with fail_code for failed tasks", async () => {
    const { json, clock } = setup({ sessionQueryStyle: "split" });
    const fifty = await json("POST", "/v1/async/videos/generations", { prompt: "v [done:50]" });
    const failed = await json("POST", "/v1/async/images/generations", { prompt: "p [fail:2038]" });
    clock.now += 2000;
    const video = await json("GET", `/v1/async/videos/tasks/${fifty.history_id}`);
    expect(video).toMatchObject({ status: 50, task_type: "video", fail_code: 0 });
    expect(video.video_url).toMatch(/\/files\/.+\.mp4$/);
    expect(await json("GET", `/v1/async/images/tasks/${failed.history_id}`)).toMatchObject({
      status: 30,
      fail_code: "2038",
      results: [],
    });
  });

  it("reports a [partial] image task as 30 with the images that did come back", async () => {
    const { json, clock } = setup({ sessionQueryStyle: "split" });
    const { history_id } = await json("POST", "/v1/async/images/generations", { prompt: "p [partial]" });
    clock.now += 2000;
    const body = await json("GET", `/v1/async/images/tasks/${history_id}`);
    expect(body).toMatchObject({ status: 30, fail_code: "2038", item_count: 2 });
  });

  it("hides a task from other accounts, and reads unknown video ids as still processing", async () => {
    const { json } = setup();
    const { history_id } = await json("POST", "/v1/async/images/generations", { prompt: "p" });
    expect(await json("GET", `/v1/async/tasks/${history_id}`, undefined, "us-good-two")).toMatchObject({
      code: -2007,
    });
    expect(await json("GET", "/v1/async/videos/tasks/123")).toMatchObject({ status: 20, raw_data: null });
  });
});

describe("session routes: token routes", () => {
  it("checks a token from the body, reporting international tokens as not live like the server (#78)", async () => {
    const { json } = setup();
    expect(await json("POST", "/token/check", { token: "good-one" }, null)).toEqual({ live: true });
    expect(await json("POST", "/token/check", { token: "us-good-two" }, null)).toEqual({ live: false });
    expect(await json("POST", "/token/check", { token: "expired-x" }, null)).toEqual({ live: false });
  });

  it("lists points for every bearer token and fails whole when one is bad", async () => {
    const { call, json } = setup();
    const ok = await call("POST", "/token/points", {}, "good-one,us-good-two");
    expect(ok && "json" in ok && ok.json).toHaveLength(2);
    expect(await json("POST", "/token/points", {}, "good-one,expired-z")).toMatchObject({ code: -2002 });
  });
});

describe("session routes: blocking routes", () => {
  it("answer once the task has finished, with b64_json when asked", async () => {
    const { json } = setup({ durations: { image: 5, video: 5 }, clock: Date.now });
    const body = await json("POST", "/v1/images/generations", { prompt: "p", response_format: "b64_json" });
    const data = body.data as { b64_json: string }[];
    expect(data).toHaveLength(4);
    expect(
      Buffer.from(data[0]?.b64_json ?? "", "base64")
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
    const failed = await json("POST", "/v1/videos/generations", { prompt: "v [fail:2038]" });
    expect(failed).toMatchObject({ code: -2008 });
    expect(failed.message).toContain("错误码: 2038");
  });
});
