import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
afterEach(async () => {
  await service.close();
});

describe("API keys", () => {
  beforeEach(async () => {
    service = await startTestService();
  });

  it("asks for a key on every route but /health (each route of /openapi.json, without a key and with a wrong one)", async () => {
    const document = await service.call("GET", "/openapi.json", { key: service.adminKey });
    expect(document.body.openapi).toBe("3.1.0");
    const routes = Object.entries(document.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([url, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          method: method.toUpperCase(),
          url: url.replace(/\{(\w+)\}/g, "x"),
          open: Array.isArray((operation as { security?: unknown[] }).security),
        })),
    );
    expect(routes.length).toBeGreaterThan(20);
    // Open without a key: liveness and the web page's static files (the page asks for a key itself).
    expect(routes.filter((route) => route.open).map((route) => route.url)).toEqual([
      "/health",
      "/",
      "/page/app.js",
      "/page/app.css",
    ]);
    for (const route of routes) {
      const none = await service.call(route.method, route.url);
      const wrong = await service.call(route.method, route.url, { key: "jms_not-a-key" });
      if (route.open) {
        expect(none.status).toBe(200);
      } else {
        expect([route.url, none.status, none.body.error]).toEqual([route.url, 401, "unauthorized"]);
        expect([route.url, wrong.status]).toEqual([route.url, 401]);
      }
    }
    expect(service.emulator.counters.requests).toBe(0);
  });

  it("stores keys hashed: neither the admin key nor a user key is in the data folder", async () => {
    const user = await newUser(service, "alice");
    await service.server.close();
    const files = await readdir(service.data, { recursive: true });
    for (const file of files) {
      const bytes = await readFile(path.join(service.data, file)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(service.adminKey)).toBe(false);
      expect(bytes.includes(user.key)).toBe(false);
    }
    // A restart finds the admin; no new admin key is printed.
    const restarted = await service.restart();
    expect(restarted.adminKey).toBeUndefined();
    expect((await service.call("GET", "/ready", { key: service.adminKey })).status).toBe(200);
  });

  it("keeps /metrics and user management to the admin key", async () => {
    const user = await newUser(service, "bob");
    for (const [method, url] of [
      ["GET", "/metrics"],
      ["GET", "/api/v1/users"],
      ["POST", "/api/v1/users"],
      ["PUT", "/api/v1/users/bob"],
      ["DELETE", "/api/v1/users/bob"],
    ] as const) {
      const answer = await service.call(method, url, { key: user.key, body: { email: "x@example.com" } });
      expect([url, answer.status]).toEqual([url, 403]);
    }
    const metrics = await service.call("GET", "/metrics", { key: service.adminKey });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('jimeng_tasks{state="pending"}');
    expect(metrics.body).toContain("jimeng_http_request_duration_seconds_bucket");
  });
});

describe("isolation between users", () => {
  beforeEach(async () => {
    service = await startTestService();
  });

  it("a key sees only its own user's tasks, events, files and batches", async () => {
    const alice = await newUser(service, "alice");
    const bob = await newUser(service, "bob");
    const task = await service.call("POST", "/api/v1/ai/image/task", {
      key: alice.key,
      body: { prompt: "alice's cat" },
    });
    const id: string = task.body.data.task_id;
    const done = await service.until(
      `/api/v1/ai/image/result/${id}`,
      alice.key,
      (body) => body.data?.status === "completed",
    );
    const file = new URL(done.data.image_url).pathname;
    const batch = await service.call("POST", "/api/batch/generate", {
      key: alice.key,
      body: { prompts: ["a", "b"] },
    });
    const batchId = encodeURIComponent(batch.body.batch_id);

    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/v1/ai/image/result/${id}`],
      ["GET", `/api/v1/ai/video/result/${id}`],
      ["GET", `/api/v1/tasks/${id}`],
      ["GET", `/api/v1/tasks/${id}/events`],
      ["DELETE", `/api/v1/tasks/${id}`],
      ["GET", file],
      ["GET", `/api/batch/status?batch_id=${batchId}`],
      ["POST", "/api/batch/process", { batch_id: batch.body.batch_id, task_index: 0 }],
      ["GET", "/api/v1/users/alice"],
    ];
    for (const [method, url, body] of attempts) {
      const answer = await service.call(method, url, { key: bob.key, ...(body ? { body } : {}) });
      expect([url, answer.status]).toEqual([url, 404]);
    }
    const list = await service.call("GET", "/api/v1/tasks/user/alice", { key: bob.key });
    expect(list.status).toBe(403);
    const actingFor = await service.call("POST", "/api/v1/ai/image/task", {
      key: bob.key,
      body: { prompt: "x", user_id: "alice" },
    });
    expect(actingFor.status).toBe(403);
    expect((await service.call("GET", "/api/batch/list", { key: bob.key })).body.batches).toEqual([]);
    // The owner and the admin still see it.
    expect((await service.call("GET", `/api/v1/tasks/${id}`, { key: alice.key })).status).toBe(200);
    expect((await service.call("GET", `/api/v1/tasks/${id}`, { key: service.adminKey })).status).toBe(200);
  });
});

describe("--insecure-no-auth", () => {
  it("serves without keys, acting as the admin, and refuses to bind anything but loopback", async () => {
    service = await startTestService({ insecureNoAuth: true });
    const created = await service.call("POST", "/api/v1/ai/image/task", {
      body: { prompt: "一只可爱的小猫咪", user_id: "user_123" },
    });
    expect(created.status).toBe(201);
    await expect(service.server.listen({ host: "0.0.0.0", port: 0 })).rejects.toThrow(/loopback/);
  });
});
