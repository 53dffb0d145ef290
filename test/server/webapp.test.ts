import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeEach(async () => {
  service = await startTestService({ defaultCredits: 10 });
});
afterEach(async () => {
  await service.close();
});

function multipart(field: string, filename: string, bytes: Buffer, type: string) {
  const boundary = "----jimengtest";
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

describe("seed 003: upload and image-to-image", () => {
  it("turns an upload into a data URL, transforms it for 2 credits, and serves the result", async () => {
    const user = await newUser(service, "alice");
    const png = proceduralPng("upload", 300, 300);
    const upload = multipart("image", "cat.png", png, "image/png");
    const uploaded = await service.call("POST", "/api/upload-image", { key: user.key, ...upload });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ size: png.length, type: "image/png" });
    expect(uploaded.body.data_url.startsWith("data:image/png;base64,")).toBe(true);

    const result = await service.call("POST", "/api/image-to-image", {
      key: user.key,
      body: {
        prompt: "transform into watercolor painting",
        input_image: uploaded.body.data_url,
        seed: 12345,
      },
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ credits_remaining: 8 });
    expect(result.body.request_id).toBeTypeOf("string");
    const file = await service.call("GET", new URL(result.body.image_url).pathname, { key: user.key });
    expect(file.status).toBe(200);
    expect(file.headers["content-type"]).toBe("image/png");
  });

  it("refuses a file that is not an image and one over 10 MB, before anything is sent", async () => {
    const user = await newUser(service, "bob");
    const text = multipart(
      "image",
      "notes.png",
      Buffer.from("just some text, not a picture at all"),
      "image/png",
    );
    const notImage = await service.call("POST", "/api/upload-image", { key: user.key, ...text });
    expect(notImage.status).toBe(400);
    expect(notImage.body.message).toMatch(/^image: /);
    const big = multipart("image", "big.png", Buffer.alloc(10 * 1024 * 1024 + 1), "image/png");
    const tooBig = await service.call("POST", "/api/upload-image", { key: user.key, ...big });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toBeTypeOf("string");
    expect(service.emulator.counters.requests).toBe(0);
  });

  it("gives the 2 credits back when the transformation fails", async () => {
    const user = await newUser(service, "carol");
    const failed = await service.call("POST", "/api/image-to-image", {
      key: user.key,
      body: {
        prompt: "make it worse [fail:50511]",
        input_image: `data:image/png;base64,${proceduralPng("x", 300, 300).toString("base64")}`,
      },
    });
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ credits_remaining: 10 });
    expect((await service.call("GET", "/api/credits", { key: user.key })).body).toEqual({ credits: 10 });
  });

  it("refuses with 402 what the balance cannot cover, sending nothing", async () => {
    const user = await newUser(service, "dave", 1);
    const refused = await service.call("POST", "/api/image-to-image", {
      key: user.key,
      body: { prompt: "x", input_image: "https://example.com/a.png" },
    });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toBe("insufficient credits");
    expect(service.emulator.counters.submits).toBe(0);
  });
});

describe("seed 003: batches", () => {
  it("charges 1 credit per task at submit, reports per-task progress to 100, and lists the batch", async () => {
    const user = await newUser(service, "erin");
    const created = await service.call("POST", "/api/batch/generate", {
      key: user.key,
      body: {
        prompts: ["A cat sitting on a windowsill", "A dog running in the park", "A bird flying in the sky"],
        aspect_ratio: "16:9",
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ total_tasks: 3, credits_deducted: 3, credits_remaining: 7 });
    const batchId: string = created.body.batch_id;
    expect(batchId).toMatch(/^batch:erin:\d+$/);

    const seen = new Set<number>();
    const done = await service.until(
      `/api/batch/status?batch_id=${encodeURIComponent(batchId)}`,
      user.key,
      (body) => {
        for (const task of body.tasks) seen.add(task.progress);
        return body.status === "completed";
      },
    );
    expect(done).toMatchObject({ batchId, totalTasks: 3, completedTasks: 3, failedTasks: 0 });
    expect(done.tasks.map((task: { taskId: string }) => task.taskId)).toEqual(
      [0, 1, 2].map((i) => `${batchId}:${i}`),
    );
    for (const task of done.tasks) {
      expect(task).toMatchObject({ status: "completed", progress: 100, error: null });
      expect(task.result.imageUrl).toContain("/api/v1/files/");
    }
    expect(Math.max(...seen)).toBe(100);
    for (const progress of seen) expect(progress).toBeGreaterThanOrEqual(0);

    const list = await service.call("GET", "/api/batch/list", { key: user.key });
    expect(list.body.batches).toEqual([
      expect.objectContaining({ batchId, totalTasks: 3, completedTasks: 3, status: "completed" }),
    ]);
  });

  it("keeps credits of failed batch tasks, and a retry of one task charges again", async () => {
    const user = await newUser(service, "frank");
    const created = await service.call("POST", "/api/batch/generate", {
      key: user.key,
      body: { prompt: "a landscape [fail:50511]", count: 2 },
    });
    const batchId: string = created.body.batch_id;
    const done = await service.until(
      `/api/batch/status?batch_id=${batchId}`,
      user.key,
      (body) => body.status === "completed",
    );
    expect(done).toMatchObject({ completedTasks: 0, failedTasks: 2 });
    expect((await service.call("GET", "/api/credits", { key: user.key })).body.credits).toBe(8);

    const retried = await service.call("POST", "/api/batch/process", {
      key: user.key,
      body: { batch_id: batchId, task_index: 1 },
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ credits_deducted: 1, credits_remaining: 7 });
    await service.until(
      `/api/batch/status?batch_id=${batchId}`,
      user.key,
      (body) => body.tasks[1].status === "failed" && body.status === "completed",
    );
  });

  it("refuses more than 10 tasks, naming the field", async () => {
    const user = await newUser(service, "gina");
    const refused = await service.call("POST", "/api/batch/generate", {
      key: user.key,
      body: { prompt: "x", count: 11 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^count: /);
  });
});
