import { describe, expect, it } from "vitest";
import {
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  RateLimitError,
} from "../../../src/errors.js";
import {
  errorFromEnvelope,
  explainFailCode,
  isUnknownRoute,
  mapAsyncStatus,
  readEnvelope,
} from "../../../src/providers/session/mapping.js";

const ctx = { session: "session #2 (us)", secrets: ["us-topsecretsession"], safe: false };

describe("readEnvelope", () => {
  it("recognises the HTTP-200 error envelope and nothing else", () => {
    expect(readEnvelope({ code: -2009, message: "x", data: null })).toEqual({ code: -2009, message: "x" });
    expect(readEnvelope({ created: 1, data: [] })).toBeUndefined();
    expect(readEnvelope([{ token: "t" }])).toBeUndefined();
    expect(readEnvelope({ code: 0, message: "ok" })).toBeUndefined();
  });
});

describe("errorFromEnvelope", () => {
  it("maps -2002 to AuthError naming the session and saying how to get a fresh sessionid", () => {
    const error = errorFromEnvelope({ code: -2002, message: "check login error us-topsecretsession" }, ctx);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain("session #2 (us)");
    expect(error.hint).toMatch(/DevTools → Application → Cookies/);
    expect(JSON.stringify(error.toJSON())).not.toContain("topsecret");
  });

  it("maps credits, moderation and parameter codes to their classes", () => {
    expect(errorFromEnvelope({ code: -2009, message: "积分不足" }, ctx)).toBeInstanceOf(
      InsufficientCreditsError,
    );
    expect(errorFromEnvelope({ code: -2006, message: "违规" }, ctx)).toBeInstanceOf(ContentPolicyError);
    const params = errorFromEnvelope({ code: -2000, message: "Params body.prompt invalid" }, ctx);
    expect(params.constructor).toBe(ApiError);
    expect(params.code).toBe(-2000);
  });

  it("maps generation failures to ApiError, and fail_code 2038 inside them to ContentPolicyError", () => {
    const failed = errorFromEnvelope({ code: -2008, message: "视频生成失败，状态码: 30，错误码: 1017" }, ctx);
    expect(failed.constructor).toBe(ApiError);
    expect(failed.hint).toMatch(/TUN/);
    const rejected = errorFromEnvelope(
      { code: -2007, message: "图像生成失败，状态码: 30，错误码: 2038" },
      ctx,
    );
    expect(rejected).toBeInstanceOf(ContentPolicyError);
    expect(rejected.hint).toMatch(/moderation/);
  });

  it("keeps the server's message for -1000 and -2001, and recognises rate limits and credit rets", () => {
    const server = errorFromEnvelope({ code: -1000, message: "boom" }, ctx);
    expect(server.message).toContain("boom");
    expect(server.retryable).toBe(false);
    expect(errorFromEnvelope({ code: -1000, message: "boom" }, { ...ctx, safe: true }).retryable).toBe(true);
    const upstream = errorFromEnvelope(
      { code: -2001, message: "[请求失败]: region not allow (错误码: 3000)" },
      ctx,
    );
    expect(upstream.message).toContain("region not allow");
    expect(upstream.hint).toMatch(/region/);
    expect(errorFromEnvelope({ code: -2001, message: "请求过于频繁 rate limited" }, ctx)).toBeInstanceOf(
      RateLimitError,
    );
    expect(
      errorFromEnvelope({ code: -2001, message: "Not enough credits (错误码: 1006)" }, ctx),
    ).toBeInstanceOf(InsufficientCreditsError);
  });

  it("tells the unknown-route answer apart from other -1000 errors", () => {
    expect(
      isUnknownRoute({
        code: -1000,
        message: "[请求有误]: 请检查API文档确认正确的请求路径，当前请求为 GET -> /x 请纠正",
      }),
    ).toBe(true);
    expect(isUnknownRoute({ code: -1000, message: "不支持的参数: size" })).toBe(false);
  });
});

describe("explainFailCode", () => {
  it("explains the fail codes users meet", () => {
    expect(explainFailCode("2038")).toMatch(/rejected/);
    expect(explainFailCode(1017)).toMatch(/TUN/);
    expect(explainFailCode("121212")).toMatch(/nanobananapro/);
    expect(explainFailCode("9")).toBeUndefined();
  });
});

describe("mapAsyncStatus", () => {
  it("treats 20, 42 and 45 as running", () => {
    for (const status of [20, 42, 45]) expect(mapAsyncStatus(status, null, 0)).toEqual({ state: "running" });
  });

  it("treats 10 and 50 with items as success, and 50 without items as still finishing", () => {
    expect(mapAsyncStatus(10, null, 4)).toEqual({ state: "succeeded", partial: false });
    expect(mapAsyncStatus(50, null, 4)).toEqual({ state: "succeeded", partial: false });
    expect(mapAsyncStatus(50, null, 0)).toEqual({ state: "running" });
    expect(mapAsyncStatus(10, null, 0).state).toBe("failed");
  });

  it("treats 30 as failed with its fail_code explained, unless items came back", () => {
    const failed = mapAsyncStatus(30, "2038", 0);
    expect(failed).toMatchObject({ state: "failed", code: "2038" });
    expect(failed.state === "failed" && failed.message).toMatch(/rejected/);
    expect(mapAsyncStatus(30, "2038", 2)).toEqual({ state: "succeeded", partial: true });
  });
});
