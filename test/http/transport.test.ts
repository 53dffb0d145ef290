import { createServer } from "node:net";
import { FormData, MockAgent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  AbortError,
  ApiError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  TimeoutError,
} from "../../src/errors.js";
import {
  type DebugEvent,
  HttpTransport,
  type Interpretation,
  type RawResponse,
  type RetryEvent,
} from "../../src/http/transport.js";
import { rejectionOf, sendJson, startServer } from "../helpers/http-server.js";

/** Interprets `{ ok: true }` as success and anything else as an ApiError (429 → RateLimitError). */
function interpret(res: RawResponse): Interpretation<unknown> {
  const body = res.json as { ok?: boolean; code?: number } | undefined;
  if (res.status === 200 && body?.ok) return { ok: true, value: body };
  const code = body?.code ?? res.status;
  if (res.status === 429) {
    return {
      ok: false,
      error: new RateLimitError("throttled", { provider: "visual", httpStatus: 429, code }),
    };
  }
  return {
    ok: false,
    error: new ApiError("failed", {
      provider: "visual",
      httpStatus: res.status,
      code,
      retryable: res.status >= 500,
    }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function transport(options: ConstructorParameters<typeof HttpTransport>[0] = {}) {
  const delays: number[] = [];
  const t = new HttpTransport({
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0,
    ...options,
  });
  cleanups.push(() => t.close());
  return { t, delays };
}

async function server(handler: Parameters<typeof startServer>[0]) {
  const s = await startServer(handler);
  cleanups.push(s.close);
  return s;
}

describe("HttpTransport.request", () => {
  it("serialises JSON once and hands the exact bytes to prepare and to the wire", async () => {
    const s = await server((_req, res) => sendJson(res, 200, { ok: true }));
    const { t } = transport();
    const seen: string[] = [];
    await t.request({
      method: "POST",
      url: `${s.url}/submit?Action=X`,
      json: { prompt: "一只猫 🐱", n: 1 },
      safe: false,
      prepare: (out) => {
        seen.push(Buffer.from(out.body).toString("utf8"));
        out.headers["x-signed"] = "yes";
      },
      interpret,
    });
    expect(seen).toEqual(['{"prompt":"一只猫 🐱","n":1}']);
    expect(s.requests[0]?.body.toString("utf8")).toBe(seen[0]);
    expect(s.requests[0]?.headers["x-signed"]).toBe("yes");
    expect(s.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(s.requests[0]?.url).toBe("/submit?Action=X");
  });

  it("reads the JSON body whatever the HTTP status", async () => {
    const s = await server((_req, res) => sendJson(res, 400, { code: 50413 }));
    const { t } = transport();
    const error = await rejectionOf(
      t.request({ method: "POST", url: s.url, json: {}, safe: true, interpret }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(50413);
    expect(error.httpStatus).toBe(400);
    expect(s.requests).toHaveLength(1);
  });

  it("retries a safe call on 5xx, preparing every attempt afresh, and reports each retry", async () => {
    const s = await server((_req, res, i) =>
      i < 2 ? sendJson(res, 503, {}) : sendJson(res, 200, { ok: true }),
    );
    const retries: RetryEvent[] = [];
    const { t, delays } = transport({ onRetry: (e) => retries.push(e) });
    const attempts: number[] = [];
    const value = await t.request({
      method: "POST",
      url: s.url,
      json: {},
      safe: true,
      prepare: (out) => attempts.push(out.attempt),
      interpret,
    });
    expect(value).toEqual({ ok: true });
    expect(attempts).toEqual([0, 1, 2]);
    expect(delays).toEqual([500, 1000]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries[0]?.reason).toContain("503");
  });

  it("gives up after maxRetries and throws the last error", async () => {
    const s = await server((_req, res) => sendJson(res, 500, { code: 50500 }));
    const { t } = transport({ maxRetries: 2 });
    const error = await rejectionOf(t.request({ method: "GET", url: s.url, safe: true, interpret }));
    expect(error).toBeInstanceOf(ApiError);
    expect(s.requests).toHaveLength(3);
  });

  it("never retries an unsafe call after a 500", async () => {
    const s = await server((_req, res) => sendJson(res, 500, { code: 50500 }));
    const { t } = transport();
    await expect(
      t.request({ method: "POST", url: s.url, json: {}, safe: false, interpret }),
    ).rejects.toBeInstanceOf(ApiError);
    expect(s.requests).toHaveLength(1);
  });

  it("never retries an unsafe call after the connection was reset mid-request", async () => {
    const s = await server((_req, res) => res.socket?.destroy());
    const { t } = transport();
    const error = await rejectionOf(
      t.request({ method: "POST", url: s.url, json: {}, safe: false, interpret }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.notSent).toBe(false);
    expect(s.requests).toHaveLength(1);
  });

  it("retries a safe call after a reset", async () => {
    const s = await server((_req, res, i) =>
      i === 0 ? res.socket?.destroy() : sendJson(res, 200, { ok: true }),
    );
    const { t } = transport();
    await expect(t.request({ method: "GET", url: s.url, safe: true, interpret })).resolves.toEqual({
      ok: true,
    });
    expect(s.requests).toHaveLength(2);
  });

  it("retries an unsafe call when the connection was refused, since nothing was sent", async () => {
    const port = await closedPort();
    const { t } = transport({ maxRetries: 2 });
    let attempts = 0;
    const error = await rejectionOf(
      t.request({
        method: "POST",
        url: `http://127.0.0.1:${port}/`,
        json: {},
        safe: false,
        prepare: () => {
          attempts++;
        },
        interpret,
      }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.notSent).toBe(true);
    expect(error.code).toBe("ECONNREFUSED");
    expect(attempts).toBe(3);
  });

  it("retries an unsafe call that was throttled, honouring retry-after-ms", async () => {
    const s = await server((_req, res, i) =>
      i === 0
        ? sendJson(res, 429, { code: 50429 }, { "retry-after-ms": "1234" })
        : sendJson(res, 200, { ok: true }),
    );
    const { t, delays } = transport();
    await expect(
      t.request({ method: "POST", url: s.url, json: {}, safe: false, interpret }),
    ).resolves.toEqual({
      ok: true,
    });
    expect(delays).toEqual([1234]);
  });

  it("rejects with TimeoutError when the deadline passes, with no hidden longer cap", async () => {
    const s = await server(() => {
      /* never answers */
    });
    const { t } = transport();
    const started = Date.now();
    const error = await rejectionOf(
      t.request({ method: "GET", url: s.url, safe: true, timeoutMs: 150, interpret }),
    );
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as unknown as TimeoutError).taskId).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("rejects with AbortError when the caller aborts mid-request, and never resolves", async () => {
    const controller = new AbortController();
    const s = await server(() => controller.abort());
    const { t } = transport();
    await expect(
      t.request({ method: "GET", url: s.url, safe: true, signal: controller.signal, interpret }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(s.requests).toHaveLength(1);
  });

  it("sends nothing when the signal is already aborted", async () => {
    const s = await server((_req, res) => sendJson(res, 200, { ok: true }));
    const { t } = transport();
    await expect(
      t.request({ method: "GET", url: s.url, safe: true, signal: AbortSignal.abort(), interpret }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(s.requests).toHaveLength(0);
  });

  it("aborts the wait between retries", async () => {
    const controller = new AbortController();
    const s = await server((_req, res) => sendJson(res, 503, {}));
    const t = new HttpTransport({ onRetry: () => controller.abort() });
    cleanups.push(() => t.close());
    await expect(
      t.request({ method: "GET", url: s.url, safe: true, signal: controller.signal, interpret }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(s.requests).toHaveLength(1);
  });

  it("never passes credentials to the debug hook", async () => {
    const s = await server((_req, res) => sendJson(res, 200, { ok: true }));
    const events: DebugEvent[] = [];
    const { t } = transport({ onDebug: (e) => events.push(e) });
    await t.request({
      method: "POST",
      url: s.url,
      json: {},
      safe: true,
      headers: { Authorization: "Bearer sid-SECRET-123", Cookie: "sessionid=sid-SECRET-123" },
      prepare: (out) => {
        out.headers["X-Security-Token"] = "STS-SECRET-456";
      },
      interpret,
    });
    const logged = JSON.stringify(events);
    expect(events.map((e) => e.type)).toEqual(["request", "response"]);
    expect(logged).not.toContain("SECRET");
    expect(s.requests[0]?.headers.authorization).toBe("Bearer sid-SECRET-123");
  });

  it("sends multipart bodies", async () => {
    const s = await server((_req, res) => sendJson(res, 200, { ok: true }));
    const { t } = transport();
    const form = new FormData();
    form.append("prompt", "hello");
    form.append("images", new Blob([Buffer.from("PNGDATA")], { type: "image/png" }), "a.png");
    await t.request({ method: "POST", url: s.url, form, safe: false, interpret });
    expect(s.requests[0]?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(s.requests[0]?.body.toString()).toContain("PNGDATA");
    expect(s.requests[0]?.body.toString()).toContain('name="prompt"');
  });

  it("uses an injected dispatcher", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get("https://api.example.test").intercept({ path: "/x", method: "GET" }).reply(200, { ok: true });
    const { t } = transport({ dispatcher: agent });
    await expect(
      t.request({ method: "GET", url: "https://api.example.test/x", safe: true, interpret }),
    ).resolves.toEqual({ ok: true });
    await agent.close();
  });
});

describe("HttpTransport.stream", () => {
  it("streams a body and maps a refused connection to NetworkError", async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { "content-type": "image/png" });
      res.end(Buffer.alloc(1024, 7));
    });
    const { t } = transport();
    const res = await t.stream(`${s.url}/file.png`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    expect(res.status).toBe(200);
    expect(res.header("content-type")).toBe("image/png");
    expect(bytes).toBe(1024);
    const port = await closedPort();
    await expect(t.stream(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(NetworkError);
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe("HttpTransport abort races", () => {
  it("rejects at once when the signal fires inside the prepare hook", async () => {
    const s = await startServer(() => {
      /* never answers */
    });
    const t = new HttpTransport();
    const controller = new AbortController();
    const started = Date.now();
    await expect(
      t.request({
        method: "POST",
        url: s.url,
        json: {},
        safe: true,
        timeoutMs: 10_000,
        signal: controller.signal,
        prepare: () => controller.abort(),
        interpret: () => ({ ok: true, value: 1 }),
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await t.close();
    await s.close();
  });
});

describe("HttpTransport.close", () => {
  it("can be called twice (a client and its provider may both close it)", async () => {
    const t = new HttpTransport();
    await t.close();
    await expect(t.close()).resolves.toBeUndefined();
  });
});

describe("retry events", () => {
  it("say whether the server throttled the call", async () => {
    const s = await startServer((_req, res, i) =>
      i === 0
        ? sendJson(res, 429, { code: 50429 })
        : i === 1
          ? sendJson(res, 503, {})
          : sendJson(res, 200, { ok: true }),
    );
    const events: RetryEvent[] = [];
    const t = new HttpTransport({ sleep: async () => {}, onRetry: (e) => events.push(e) });
    await t.request({ method: "GET", url: s.url, safe: true, interpret });
    expect(events.map((e) => e.throttled)).toEqual([true, false]);
    await t.close();
    await s.close();
  });
});
