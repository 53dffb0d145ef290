import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeEach(async () => {
  service = await startTestService();
});
afterEach(async () => {
  await service.close();
});

describe("seed 000: create an image task, poll its result", () => {
  it("answers 201 with a pending task id, 202 while it runs, then 200 with the service's copy of the image", async () => {
    const user = await newUser(service, "user_123");
    const created = await service.call("POST", "/api/v1/ai/image/task", {
      key: user.key,
      body: {
        prompt: "一只可爱的小猫咪在花园里玩耍",
        user_id: "user_123",
        model: "doubao-seedream-3.0-t2i",
        size: "1024x1024",
        quality: "standard",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      success: true,
      data: { status: "pending", provider: "volcengine_jimeng" },
    });
    const taskId: string = created.body.data.task_id;
    expect(typeof created.body.data.system_task_id).toBe("string");

    const first = await service.call("GET", `/api/v1/ai/image/result/${taskId}`, { key: user.key });
    expect([200, 202]).toContain(first.status);

    const done = await service.until(
      `/api/v1/ai/image/result/${taskId}`,
      user.key,
      (body) => body.data?.status === "completed",
    );
    const result = done.data.result;
    expect(done.data.image_url).toBe(result.image_url);
    expect(result).toMatchObject({ id: taskId, type: "image", provider: "volcengine_jimeng" });
    expect(result.metadata).toMatchObject({
      task_id: taskId,
      model: "doubao-seedream-3.0-t2i",
      size: "1024x1024",
      quality: "standard",
    });
    expect(result.duration).toBeGreaterThan(0);
    expect(result.image_url).toMatch(new RegExp(`/api/v1/files/${taskId}/1\\.png$`));
    expect(result.metadata.data[0].source_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);

    // The link serves the bytes the emulator made, to the owner only.
    const file = await service.call("GET", new URL(result.image_url).pathname, { key: user.key });
    expect(file.status).toBe(200);
    const sha = createHash("sha256").update(file.raw).digest("hex");
    const upstream = service.emulator.tasks().flatMap((task) => task.outputs.map((output) => output.sha256));
    expect(upstream).toContain(sha);
  });

  it("answers 400 naming the missing prompt, and 404 for an unknown task id", async () => {
    const missing = await service.call("POST", "/api/v1/ai/image/task", {
      key: service.adminKey,
      body: { user_id: "u" },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^prompt: /);
    expect(missing.body.error).toBeTypeOf("string");
    const badSize = await service.call("POST", "/api/v1/ai/image/task", {
      key: service.adminKey,
      body: { prompt: "a cat", size: "300x300" },
    });
    expect(badSize.status).toBe(400);
    expect(badSize.body.message).toMatch(/^size: /);
    const unknown = await service.call("GET", "/api/v1/ai/image/result/volcengine_img_1703123456789", {
      key: service.adminKey,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: "not found" });
    expect(service.emulator.counters.submits).toBe(0);
  });

  it("answers 500 with status failed when the task fails upstream", async () => {
    const created = await service.call("POST", "/api/v1/ai/image/task", {
      key: service.adminKey,
      body: { prompt: "a cat [fail:50511]", user_id: "user_9" },
    });
    expect(created.status).toBe(201);
    const failed = await service.until(
      `/api/v1/ai/image/result/${created.body.data.task_id}`,
      service.adminKey,
      (_body, status) => status === 500,
    );
    expect(failed).toMatchObject({
      error: "task failed",
      data: { status: "failed", task_id: created.body.data.task_id },
    });
    expect(failed.message).toContain("50511");
  });
});

describe("seed 002: users and generic tasks", () => {
  it("creates, finds, updates and deletes users (admin only) and lists a user's tasks page by page", async () => {
    const user = await newUser(service, "zhang");
    const byEmail = await service.call("GET", "/api/v1/users?email=zhang@example.com", {
      key: service.adminKey,
    });
    expect(byEmail.body.data.map((u: { id: string }) => u.id)).toEqual(["zhang"]);
    const updated = await service.call("PUT", "/api/v1/users/zhang", {
      key: service.adminKey,
      body: { name: "张三" },
    });
    expect(updated.body.data.name).toBe("张三");
    expect(
      (await service.call("POST", "/api/v1/users", { key: user.key, body: { email: "x@example.com" } }))
        .status,
    ).toBe(403);

    for (const prompt of ["one", "two", "three"]) {
      const created = await service.call("POST", "/api/v1/ai/tasks", {
        key: user.key,
        body: { type: "image", prompt },
      });
      expect(created.status).toBe(201);
    }
    const page1 = await service.call("GET", "/api/v1/tasks/user/zhang?limit=2", { key: user.key });
    expect(page1.body.data.tasks.map((t: { prompt: string }) => t.prompt)).toEqual(["three", "two"]);
    const page2 = await service.call(
      "GET",
      `/api/v1/tasks/user/zhang?limit=2&cursor=${page1.body.data.next_cursor}`,
      { key: user.key },
    );
    expect(page2.body.data.tasks.map((t: { prompt: string }) => t.prompt)).toEqual(["one"]);
    const one = await service.call("GET", `/api/v1/tasks/${page2.body.data.tasks[0].task_id}`, {
      key: user.key,
    });
    expect(one.body.data).toMatchObject({ user_id: "zhang", type: "image" });

    expect((await service.call("DELETE", "/api/v1/users/zhang", { key: service.adminKey })).status).toBe(200);
    expect((await service.call("GET", "/api/v1/tasks/user/zhang", { key: user.key })).status).toBe(401);
  });
});

describe("seed routes on the Ark provider", () => {
  it("maps the seeds' model names (and their default) to Ark's own ids; images and videos complete", async () => {
    const ark = await startTestService({}, {}, "ark");
    try {
      const user = await newUser(ark, "ark_user");
      const created = [];
      for (const body of [
        { prompt: "the seeds' default model" },
        { prompt: "a named seed model", model: "doubao-seedream-4.0", size: "1792x1024" },
      ]) {
        const answer = await ark.call("POST", "/api/v1/ai/image/task", { key: user.key, body });
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        created.push(answer.body.data.task_id as string);
      }
      const video = await ark.call("POST", "/api/v1/ai/video/task", {
        key: user.key,
        body: { prompt: "waves at dusk" },
      });
      expect(video.status, JSON.stringify(video.body)).toBe(201);
      for (const id of created) {
        const done = await ark.until(`/api/v1/ai/image/result/${id}`, user.key, (body) =>
          ["completed", "failed"].includes(body.data?.status),
        );
        expect(done.data.status).toBe("completed");
      }
      expect(ark.emulator.tasks().map((task) => [task.provider, task.model])).toEqual(
        expect.arrayContaining([
          ["ark", "doubao-seedream-3-0-t2i-250415"],
          ["ark", "doubao-seedream-4-0-250828"],
        ]),
      );
    } finally {
      await ark.close();
    }
  });
});
