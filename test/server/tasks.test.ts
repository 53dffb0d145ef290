import { afterEach, describe, expect, it } from "vitest";
import { newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
afterEach(async () => {
  await service.close();
});

describe("quotas", () => {
  it("limits unfinished tasks per user with 429 and Retry-After", async () => {
    service = await startTestService(
      { quotas: { maxActiveTasks: 2 }, concurrency: 1 },
      { durations: { image: 200 } },
    );
    const user = await newUser(service, "alice");
    for (let i = 0; i < 2; i++) {
      expect(
        (await service.call("POST", "/api/v1/ai/image/task", { key: user.key, body: { prompt: `p${i}` } }))
          .status,
      ).toBe(201);
    }
    const refused = await service.call("POST", "/api/v1/ai/image/task", {
      key: user.key,
      body: { prompt: "p3" },
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: "too many requests" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The admin acts unlimited.
    expect(
      (await service.call("POST", "/api/v1/ai/image/task", { key: service.adminKey, body: { prompt: "p4" } }))
        .status,
    ).toBe(201);
  });

  it("limits images per UTC day, with Retry-After until midnight", async () => {
    service = await startTestService({ quotas: { imagesPerDay: 3 } });
    const user = await newUser(service, "bob");
    expect(
      (
        await service.call("POST", "/api/v1/ai/tasks", {
          key: user.key,
          body: { prompt: "a", n: 2, model: "jimeng-4.0" },
        })
      ).status,
    ).toBe(201);
    const refused = await service.call("POST", "/api/v1/ai/tasks", {
      key: user.key,
      body: { prompt: "b", n: 2, model: "jimeng-4.0" },
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
  });

  it("limits requests per second per key", async () => {
    service = await startTestService({ quotas: { keyRatePerSecond: 1 } });
    const user = await newUser(service, "carol");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await service.call("GET", "/api/credits", { key: user.key })).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
  });
});

describe("cancel", () => {
  it("cancels a queued task (no submit, credits back) and refuses one already submitted", async () => {
    service = await startTestService({ concurrency: 1 }, { durations: { image: 300 } });
    const user = await newUser(service, "dan");
    const batch = await service.call("POST", "/api/batch/generate", {
      key: user.key,
      body: { prompts: ["first", "second"] },
    });
    const first = `${batch.body.batch_id}:0`;
    const second = `${batch.body.batch_id}:1`;
    await service.until(
      `/api/v1/tasks/${encodeURIComponent(first)}`,
      user.key,
      (body) => body.data.upstream_task_id !== null,
    );
    const cancelled = await service.call("DELETE", `/api/v1/tasks/${encodeURIComponent(second)}`, {
      key: user.key,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe("cancelled");
    const refused = await service.call("DELETE", `/api/v1/tasks/${encodeURIComponent(first)}`, {
      key: user.key,
    });
    expect(refused.status).toBe(409);
    await service.until(
      `/api/v1/tasks/${encodeURIComponent(first)}`,
      user.key,
      (body) => body.data.status === "completed",
    );
    expect(service.emulator.counters.tasksByPrompt).toEqual({ first: 1 });
    expect((await service.call("GET", "/api/credits", { key: user.key })).body.credits).toBe(9);
  });
});

describe("events and other kinds", () => {
  it("streams a task's status changes as server-sent events until it ends", async () => {
    service = await startTestService({}, { durations: { image: 100 } });
    const url = await service.server.listen({ port: 0 });
    const created = await service.call("POST", "/api/v1/ai/image/task", {
      key: service.adminKey,
      body: { prompt: "sse" },
    });
    const response = await fetch(`${url}/api/v1/tasks/${created.body.data.task_id}/events`, {
      headers: { authorization: `Bearer ${service.adminKey}` },
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    const events = text
      .split("\n\n")
      .filter((block) => block.startsWith("event: status"))
      .map((block) => JSON.parse(block.split("\ndata: ")[1] ?? "{}"));
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ status: "completed", progress: 100 });
    expect(events[0].status).not.toBe("completed");
  });

  it("makes a video through /api/v1/ai/video/task and answers its video_url", async () => {
    service = await startTestService();
    const created = await service.call("POST", "/api/v1/ai/video/task", {
      key: service.adminKey,
      body: { prompt: "waves on a beach", duration: 5, ratio: "16:9" },
    });
    expect(created.status).toBe(201);
    const done = await service.until(
      `/api/v1/ai/video/result/${created.body.data.task_id}`,
      service.adminKey,
      (_b, status) => status !== 202,
    );
    expect(done.data.result.type).toBe("video");
    const file = await service.call("GET", new URL(done.data.video_url).pathname, { key: service.adminKey });
    expect(file.headers["content-type"]).toBe("video/mp4");
  });
});

describe("retries of the in-process workers", () => {
  it("a download that fails in a way safe to repeat is polled and downloaded again: completed, one submit", async () => {
    const faults = { download: { serverError: 1 } };
    service = await startTestService({}, { faults });
    const created = await service.call("POST", "/api/v1/ai/image/task", {
      key: service.adminKey,
      body: { prompt: "saved on the second try" },
    });
    const id = created.body.data.task_id;
    // The first round of downloads failed (5xx after the download's own retries): the pool waits to try again.
    for (let i = 0; i < 2000 && service.server.pool.counters.retried === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(service.server.pool.counters.retried).toBe(1);
    faults.download = { serverError: 0 };
    const done = await service.until(`/api/v1/tasks/${id}`, service.adminKey, (body) =>
      ["completed", "failed"].includes(body.data?.status),
    );
    expect(done.data.status).toBe("completed");
    expect(service.emulator.counters.tasksByPrompt).toEqual({ "saved on the second try": 1 });
  });
});
