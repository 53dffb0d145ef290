import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AbortError, AuthError, ValidationError } from "../../../src/errors.js";
import type { DebugEvent } from "../../../src/http/transport.js";
import { VisualClient, type VisualClientOptions } from "../../../src/providers/visual/client.js";
import { verifySignature } from "../../../src/signing/verify.js";
import { type Handler, rejectionOf, sendJson, startServer } from "../../helpers/http-server.js";

const SECRET = "client-test-secret-key==";
const TOKEN = "STS-client-test-token";
const ok = (data: unknown) => ({ code: 10000, message: "Success", request_id: "R1", status: 10000, data });

const servers: Array<{ close: () => Promise<void> }> = [];
const clients: VisualClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(handler: Handler, options: Partial<VisualClientOptions> = {}) {
  const server = await startServer(handler);
  servers.push(server);
  const client = new VisualClient({
    accessKeyId: "AKLTclient",
    secretAccessKey: SECRET,
    endpoint: server.url,
    sleep: async () => {},
    ...options,
  });
  clients.push(client);
  return { server, client };
}

describe("VisualClient", () => {
  it("keeps a task id the server sends as a bare number as its exact string", async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"code":10000,"message":"Success","request_id":"R1","data":{"task_id":7392616336519610409}}');
    });
    expect(await client.submitTask("jimeng_t2i_v40", { prompt: "x" })).toEqual({
      taskId: "7392616336519610409",
      requestId: "R1",
    });
  });

  it("sends a doc-profile signature a gateway can verify over the exact body bytes", async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, ok({ task_id: "1" })), {
      sessionToken: TOKEN,
    });
    await client.submitTask("jimeng_t2i_v40", { prompt: "雪地里的狐狸" });
    const [request] = server.requests;
    const headers = Object.fromEntries(
      Object.entries(request?.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]),
    );
    expect(headers.authorization).toContain(
      "SignedHeaders=content-type;host;x-content-sha256;x-date;x-security-token,",
    );
    expect(headers["x-security-token"]).toBe(TOKEN);
    const verdict = verifySignature({
      method: "POST",
      url: new URL(`${server.url}${request?.url}`),
      headers,
      body: request?.body ?? Buffer.alloc(0),
      credentials: { accessKeyId: "AKLTclient", secretAccessKey: SECRET },
      now: Date.now(),
      region: "cn-north-1",
      service: "cv",
    });
    expect(verdict).toEqual({ ok: true });
    expect(request?.url).toBe("/?Action=CVSync2AsyncSubmitTask&Version=2022-08-31");
    expect(JSON.parse(request?.body.toString() ?? "{}")).toMatchObject({
      req_key: "jimeng_t2i_v40",
      scale: 0.5,
      force_single: false,
    });
  });

  it("serialises return_url, logo_info and aigc_meta into req_json for image models", async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, ok({ status: "in_queue" })));
    await client.getResult("jimeng_t2i_v40", "7392616336519610409", {
      logoInfo: { addLogo: true, position: 2, logoTextContent: "AI" },
      aigcMeta: { producerId: "p1", contentPropagator: "me" },
    });
    const body = JSON.parse(server.requests[0]?.body.toString() ?? "{}");
    expect(body.task_id).toBe("7392616336519610409");
    expect(JSON.parse(body.req_json)).toEqual({
      return_url: true,
      logo_info: { add_logo: true, position: 2, logo_text_content: "AI" },
      aigc_meta: { producer_id: "p1", content_propagator: "me" },
    });
  });

  it("sends only aigc_meta in req_json for video models, and no req_json without it", async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, ok({ status: "generating" })));
    await client.getResult("jimeng_t2v_v30", "1", {
      aigcMeta: { producerId: "p" },
      logoInfo: { addLogo: true },
    });
    await client.getResult("jimeng_t2v_v30", "1");
    const [withMeta, without] = server.requests.map((r) => JSON.parse(r.body.toString()));
    expect(JSON.parse(withMeta.req_json)).toEqual({ aigc_meta: { producer_id: "p" } });
    expect(without.req_json).toBeUndefined();
  });

  it("maps a gateway error to AuthError with its request id", async () => {
    const { client } = await setup((_req, res) =>
      sendJson(res, 401, {
        ResponseMetadata: {
          RequestId: "GW9",
          Error: { Code: "SignatureDoesNotMatch", CodeN: 100010, Message: "x" },
        },
      }),
    );
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v40", { prompt: "x" }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ requestId: "GW9", httpStatus: 401 });
  });

  it("retries a poll answered with a non-JSON 502 and returns the next answer", async () => {
    const { client, server } = await setup((_req, res, index) => {
      if (index === 0) {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>bad gateway</html>");
      } else
        sendJson(res, 200, ok({ status: "done", image_urls: ["https://x/1.png"], binary_data_base64: null }));
    });
    const result = await client.getResult("jimeng_t2i_v40", "1");
    expect(result).toEqual({ status: "done", imageUrls: ["https://x/1.png"], requestId: "R1" });
    expect(server.requests).toHaveLength(2);
  });

  it("validates known req_keys before sending anything", async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, ok({ task_id: "1" })));
    const error = await rejectionOf(client.submitTask("jimeng_t2i_v31", { prompt: "" }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("prompt");
    expect(server.requests).toHaveLength(0);
  });

  it("passes unknown req_keys through unvalidated", async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, ok({ task_id: "9" })));
    await client.submitTask("jimeng_vgfm_t2v_l20", { prompt: "x", aspect_ratio: "16:9" });
    expect(JSON.parse(server.requests[0]?.body.toString() ?? "{}")).toEqual({
      req_key: "jimeng_vgfm_t2v_l20",
      prompt: "x",
      aspect_ratio: "16:9",
    });
  });

  it("rejects with AbortError when the caller's signal fires", async () => {
    const { client } = await setup(() => {});
    const controller = new AbortController();
    const pending = client.getResult("jimeng_t2i_v40", "1", { signal: controller.signal });
    controller.abort();
    expect(await rejectionOf(pending)).toBeInstanceOf(AbortError);
  });

  it("needs both keys", () => {
    expect(() => new VisualClient({ accessKeyId: "", secretAccessKey: "" })).toThrow(ValidationError);
  });

  it("never shows the secret or the token: not in debug events, inspect or JSON", async () => {
    const events: DebugEvent[] = [];
    const { client } = await setup((_req, res) => sendJson(res, 200, ok({ task_id: "1" })), {
      sessionToken: TOKEN,
      onDebug: (event) => events.push(event),
    });
    await client.submitTask("jimeng_t2i_v40", { prompt: "x" });
    const shown =
      JSON.stringify(events) + inspect(client, { showHidden: true, depth: 6 }) + JSON.stringify(client);
    expect(events.length).toBeGreaterThan(0);
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(TOKEN);
  });
});
