import { describe, expect, it } from "vitest";
import { ApiError, AuthError, ContentPolicyError, RateLimitError } from "../../../src/errors.js";
import { isResubmittable, parseVisualJson, visualErrorFrom } from "../../../src/providers/visual/errors.js";

const envelope = (code: number, message = "m") => ({ code, message, request_id: "REQ1", data: null });
const gateway = (code: string) => ({
  ResponseMetadata: { RequestId: "GW1", Error: { Code: code, CodeN: 1, Message: "no" } },
  code: 10000,
});

describe("parseVisualJson", () => {
  it("keeps a task_id sent as a bare number as its exact decimal string", () => {
    const json = parseVisualJson('{"code":10000,"data":{"task_id": 7392616336519610409}}') as {
      data: { task_id: unknown };
    };
    expect(json.data.task_id).toBe("7392616336519610409");
  });

  it("leaves text inside strings alone", () => {
    const json = parseVisualJson('{"prompt":"say \\"task_id\\":1 please","task_id":"5"}') as Record<
      string,
      unknown
    >;
    expect(json.prompt).toBe('say "task_id":1 please');
    expect(json.task_id).toBe("5");
  });

  it("returns undefined for a body that is not JSON", () => {
    expect(parseVisualJson("<html>bad gateway</html>")).toBeUndefined();
  });
});

describe("visualErrorFrom", () => {
  it("a gateway error wins over everything else and auth codes become AuthError with the request id", () => {
    for (const code of [
      "SignatureDoesNotMatch",
      "InvalidAccessKey",
      "InvalidTimestamp",
      "AccessDenied",
      "LackPolicy",
    ]) {
      const error = visualErrorFrom(401, gateway(code), { operation: "submit" });
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code, httpStatus: 401, requestId: "GW1", retryable: false });
    }
  });

  it("LackPolicy says which policy to attach", () => {
    expect(visualErrorFrom(403, gateway("LackPolicy"), { operation: "submit" }).message).toMatch(
      /CVFullAccess/,
    );
  });

  it.each([50429, 50430])("%i is a retryable RateLimitError", (code) => {
    const error = visualErrorFrom(429, envelope(code), { operation: "submit" });
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code, httpStatus: 429, requestId: "REQ1", retryable: true });
  });

  it.each([50411, 50412, 50413, 50512, 50518])(
    "input moderation %i is a final ContentPolicyError",
    (code) => {
      const error = visualErrorFrom(400, envelope(code), { operation: "poll" });
      expect(error).toBeInstanceOf(ContentPolicyError);
      expect(error.retryable).toBe(false);
      expect(isResubmittable(error)).toBe(false);
    },
  );

  it.each([50511, 50516, 50517, 50519])(
    "output moderation %i is not retried but marked resubmittable",
    (code) => {
      const error = visualErrorFrom(400, envelope(code), { operation: "poll" });
      expect(error).toBeInstanceOf(ContentPolicyError);
      expect(error.retryable).toBe(false);
      expect(isResubmittable(error)).toBe(true);
      expect(error.message).toMatch(/resubmit/);
    },
  );

  it("50400 is an AuthError telling the user to enable the service and attach a policy", () => {
    const error = visualErrorFrom(400, envelope(50400), { operation: "submit" });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(/enable/);
    expect(error.message).toMatch(/JimengFullAccess/);
  });

  it("50215 on a poll explains task id and req_key", () => {
    const error = visualErrorFrom(400, envelope(50215), { operation: "poll", reqKey: "jimeng_t2i_v40" });
    expect(error).toMatchObject({ name: "ApiError", code: 50215, retryable: false });
    expect(error.message).toMatch(/task id/);
    expect(error.message).toMatch(/req_key/);
  });

  it.each([50500, 50501])("%i is retryable for polls, not for submits", (code) => {
    expect(visualErrorFrom(500, envelope(code), { operation: "poll" }).retryable).toBe(true);
    expect(visualErrorFrom(500, envelope(code), { operation: "submit" }).retryable).toBe(false);
  });

  it("a non-JSON 502 is an ApiError with an HTTP code; a non-JSON 429 a RateLimitError", () => {
    expect(visualErrorFrom(502, undefined, { operation: "poll" })).toMatchObject({
      code: "HTTP_502",
      retryable: true,
    });
    expect(visualErrorFrom(429, undefined, { operation: "submit" })).toBeInstanceOf(RateLimitError);
  });

  it("an unknown code keeps the server's message and code", () => {
    const error = visualErrorFrom(400, envelope(51234, "Something odd"), { operation: "submit" });
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 51234 });
    expect(error.message).toContain("Something odd");
  });
});
