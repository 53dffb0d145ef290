import { afterEach, describe, expect, it } from "vitest";
import { ServiceClient, ServiceError } from "../../src/index.js";
import { type Json, newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
afterEach(async () => {
  await service.close();
});

describe("the seeds' own client code, unchanged but for the base URL", () => {
  it("seed 000's createImageTask / pollTaskResult work against --insecure-no-auth", async () => {
    service = await startTestService({ insecureNoAuth: true });
    const base = await service.server.listen({ port: 0 });
    const fetch = (path: string, init?: RequestInit) => globalThis.fetch(`${base}${path}`, init);

    // Seed 000, "JavaScript示例" (3 s between polls shortened to 20 ms).
    async function createImageTask(prompt: string, userId: string) {
      const response = await fetch("/api/v1/ai/image/task", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          prompt: prompt,
          user_id: userId,
          model: "doubao-seedream-3.0-t2i",
          size: "1024x1024",
          quality: "standard",
        }),
      });
      const result: Json = await response.json();
      return result.data.task_id;
    }
    async function pollTaskResult(taskId: string, maxAttempts = 30) {
      for (let i = 0; i < maxAttempts; i++) {
        const response = await fetch(`/api/v1/ai/image/result/${taskId}`);
        const result: Json = await response.json();
        if (result.data.status === "completed") {
          return result.data.result.image_url;
        } else if (result.data.status === "failed") {
          throw new Error("任务失败");
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error("任务超时");
    }

    const taskId = await createImageTask("一只可爱的小猫", "user_123");
    const imageUrl: string = await pollTaskResult(taskId);
    expect(imageUrl).toBe(`${base}/api/v1/files/${taskId}/1.png`);
    const image = await globalThis.fetch(imageUrl);
    expect(image.status).toBe(200);
    expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it("seed 003's submitBatch / pollBatchStatus work with a user's Bearer token", async () => {
    service = await startTestService();
    const base = await service.server.listen({ port: 0 });
    const token = (await newUser(service, "testuser")).key;
    const fetch = (path: string, init?: RequestInit) => globalThis.fetch(`${base}${path}`, init);
    const progress: number[][] = [];
    const finished = new Promise<{ tasks: { status: string; progress: number }[] }>((resolve) => {
      async function submitBatch() {
        const res = await fetch("/api/batch/generate", {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify({ prompts: ["prompt1", "prompt2", "prompt3"] }),
        });
        const data: Json = await res.json();
        const batchId = data.batch_id;
        pollBatchStatus(batchId);
      }
      async function pollBatchStatus(batchId: string) {
        const interval = setInterval(async () => {
          const res = await fetch(`/api/batch/status?batch_id=${batchId}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          const batch: Json = await res.json();
          progress.push(batch.tasks.map((task: { progress: number }) => task.progress));
          if (batch.status === "completed") {
            clearInterval(interval);
            resolve(batch);
          }
        }, 20);
      }
      void submitBatch();
    });
    const batch = await finished;
    expect(batch.tasks.map((task) => [task.status, task.progress])).toEqual([
      ["completed", 100],
      ["completed", 100],
      ["completed", 100],
    ]);
  });
});

describe("ServiceClient", () => {
  it("creates a user, runs a task to its file, lists it, and turns refusals into ServiceError", async () => {
    service = await startTestService();
    const url = await service.server.listen({ port: 0 });
    const admin = new ServiceClient({ url, apiKey: service.adminKey });
    const { user, apiKey } = await admin.createUser({ email: "li@example.com", name: "li", id: "li" });
    expect(user).toMatchObject({ id: "li", credits: 10, admin: false });

    const client = new ServiceClient({ url, apiKey });
    const task = await client.createImageTask({ prompt: "a red fox in the snow", style: "realistic" });
    const result = await client.waitForResult(task.task_id, { intervalMs: 10 });
    expect(result.status).toBe("completed");
    const bytes = await client.download(result.url as string);
    expect(Buffer.from(bytes).subarray(1, 4).toString()).toBe("PNG");
    expect((await client.listTasks("li")).tasks.map((t) => t.task_id)).toEqual([task.task_id]);
    expect(await client.credits()).toBe(10);

    const refused = await client.createImageTask({ prompt: "" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({ httpStatus: 400 });
    expect((refused as ServiceError).requestId).toBeTypeOf("string");
    const failed = await client.createImageTask({ prompt: "doomed [fail:50511]" });
    await expect(client.waitForResult(failed.task_id, { intervalMs: 10 })).rejects.toMatchObject({
      code: "50511",
    });
  });
});
