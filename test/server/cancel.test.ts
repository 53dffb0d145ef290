import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import type { Provider, TaskRef, TaskStatus } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";
import { newUser, startTestService, type TestService } from "./helpers.js";

/** A provider that can cancel: its tasks run until cancelled; `refuse` makes it refuse like Ark does for a running task. */
function cancellingProvider(options: { refuse?: boolean } = {}) {
  const cancelled = new Set<string>();
  const cancels: string[] = [];
  let next = 0;
  const provider: Provider = {
    name: "visual",
    models: VISUAL_MODELS,
    resolveModel: (name, kind) =>
      VISUAL_MODELS.find((model) => model.id === name || model.aliases.includes(name ?? "")) ??
      (VISUAL_MODELS.find((model) => model.defaultFor?.includes(kind)) as (typeof VISUAL_MODELS)[number]),
    async submit(request, submitOptions = {}) {
      const ref: TaskRef = {
        provider: "visual",
        taskId: `up-${++next}`,
        model: request.model.id,
        kind: request.kind,
        submittedAt: new Date().toISOString(),
      };
      await submitOptions.onSubmitted?.(ref);
      return ref;
    },
    async get(ref): Promise<TaskStatus> {
      if (cancelled.has(ref.taskId)) {
        return { ref, status: "cancelled", outputs: [], error: { code: "cancelled", message: "cancelled" } };
      }
      return { ref, status: "running", outputs: [] };
    },
    async cancel(ref) {
      cancels.push(ref.taskId);
      if (options.refuse) {
        throw new ApiError("the task is running and cannot be cancelled", {
          provider: "visual",
          httpStatus: 400,
          code: "InvalidAction.TaskRunning",
        });
      }
      cancelled.add(ref.taskId);
    },
    close: async () => {},
  };
  return { provider, cancels };
}

let service: TestService;
afterEach(async () => {
  await service.close();
});

async function submittedTask(key: string): Promise<string> {
  const created = await service.call("POST", "/api/batch/generate", { key, body: { prompts: ["long"] } });
  const id = `${created.body.batch_id}:0`;
  await service.until(`/api/v1/tasks/${encodeURIComponent(id)}`, key, (body) => body.data.upstream_task_id);
  return id;
}

describe("cancel of a task already submitted upstream", () => {
  it("is passed to a provider that can cancel: the task ends cancelled, its credits back", async () => {
    const { provider, cancels } = cancellingProvider();
    service = await startTestService({ provider, drainTimeoutMs: 50 });
    const user = await newUser(service, "erin");
    const id = await submittedTask(user.key);
    expect((await service.call("GET", "/api/credits", { key: user.key })).body.credits).toBe(9);

    const answer = await service.call("DELETE", `/api/v1/tasks/${encodeURIComponent(id)}`, { key: user.key });
    expect([answer.status, answer.body.data.status]).toEqual([200, "cancelled"]);
    expect(cancels).toEqual(["up-1"]);
    const task = await service.call("GET", `/api/v1/tasks/${encodeURIComponent(id)}`, { key: user.key });
    expect(task.body.data.status).toBe("cancelled");
    expect((await service.call("GET", "/api/credits", { key: user.key })).body.credits).toBe(10);
  });

  it("answers 409 with the provider's reason when the provider refuses, and the task goes on", async () => {
    const { provider, cancels } = cancellingProvider({ refuse: true });
    service = await startTestService({ provider, drainTimeoutMs: 50 });
    const user = await newUser(service, "finn");
    const id = await submittedTask(user.key);
    const answer = await service.call("DELETE", `/api/v1/tasks/${encodeURIComponent(id)}`, { key: user.key });
    expect(answer.status).toBe(409);
    expect(answer.body.message).toContain("the task is running and cannot be cancelled");
    expect(answer.body.data.status).toBe("processing");
    expect(cancels).toEqual(["up-1"]);
    expect((await service.call("GET", "/api/credits", { key: user.key })).body.credits).toBe(9);
  });

  it("answers 409 saying the provider cannot cancel when it has no cancel (it is paid for and finishes)", async () => {
    service = await startTestService({ concurrency: 1 }, { durations: { image: 300 } });
    const user = await newUser(service, "gus");
    const id = await submittedTask(user.key);
    const answer = await service.call("DELETE", `/api/v1/tasks/${encodeURIComponent(id)}`, { key: user.key });
    expect(answer.status).toBe(409);
    expect(answer.body.message).toMatch(
      /the visual provider cannot cancel it; it is paid for and will finish/,
    );
    await service.until(
      `/api/v1/tasks/${encodeURIComponent(id)}`,
      user.key,
      (body) => body.data.status === "completed",
    );
  });
});
