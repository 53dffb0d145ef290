import { afterEach, describe, expect, it } from "vitest";
import { createProvider } from "../../src/providers/create.js";
import { recoveryAction } from "../../src/queue/recovery.js";
import { Store, type StoredTask } from "../../src/queue/store.js";
import { startTestService, type TestService } from "./helpers.js";

let service: TestService | undefined;
const running = () => service as TestService;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const base: StoredTask = {
  id: "t1",
  userId: "u",
  origin: "image",
  request: { kind: "generate", prompt: "p" },
  meta: {},
  status: "pending",
  progress: 0,
  outputs: [],
  credits: 0,
  submits: 0,
  createdAt: 0,
  updatedAt: 0,
};

describe("recoveryAction (the batch engine's resume rule)", () => {
  it("polls a recorded upstream task, queues a pending one, and decides a mid-submit one by resubmitUncertain", () => {
    const ref = {
      provider: "visual" as const,
      taskId: "42",
      model: "m",
      kind: "generate" as const,
      submittedAt: "2026-01-01T00:00:00Z",
    };
    expect(recoveryAction({ ...base, status: "processing", ref, submits: 1 }, true)).toBe("poll");
    expect(recoveryAction(base, true)).toBe("queue");
    expect(recoveryAction({ ...base, status: "submitting", submits: 1 }, true)).toBe("submit");
    expect(recoveryAction({ ...base, status: "submitting", submits: 1 }, false)).toBe("skip");
  });
});

/** Stops the service, writes tasks into its store as a killed process would have left them, and restarts it. */
async function leaveTasks(
  write: (store: Store, ref: Awaited<ReturnType<ReturnType<typeof createProvider>["submit"]>>) => void,
) {
  await running().server.close();
  const provider = createProvider({
    provider: "visual",
    accessKeyId: running().emulator.credentials.accessKeyId,
    secretAccessKey: running().emulator.credentials.secretAccessKey,
    endpoint: running().emulator.url,
  });
  const model = provider.resolveModel("jimeng-3.0", "generate");
  const ref = await provider.submit({ kind: "generate", prompt: "recorded", model, images: [] });
  await provider.close();
  const store = new Store({ dir: running().data });
  write(store, ref);
  store.close();
}

describe("restart after a crash", () => {
  it("polls a task whose upstream id was recorded instead of submitting it again, and runs the pending ones", async () => {
    service = await startTestService();
    await leaveTasks((store, ref) => {
      store.insertUser({ id: "u", credits: 0, admin: false });
      store.insertTask({
        id: "recorded",
        userId: "u",
        origin: "image",
        request: { kind: "generate", prompt: "recorded", model: "jimeng_t2i_v30" },
        meta: {},
        credits: 0,
      });
      store.updateTask("recorded", ["pending"], { status: "submitting", addSubmit: true });
      store.updateTask("recorded", ["submitting"], { status: "processing", progress: 30, ref });
      store.insertTask({
        id: "waiting",
        userId: "u",
        origin: "image",
        request: { kind: "generate", prompt: "waiting" },
        meta: {},
        credits: 0,
      });
    });
    const restarted = await running().restart();
    expect(restarted.pool.counters.recoveredPolls).toBe(1);
    for (const id of ["recorded", "waiting"]) {
      await running().until(
        `/api/v1/ai/image/result/${id}`,
        running().adminKey,
        (body) => body.data?.status === "completed",
      );
    }
    expect(running().emulator.counters.tasksByPrompt).toEqual({ recorded: 1, waiting: 1 });
  });

  it("submits a task caught mid-submit again by default, or fails it as uncertain with resubmitUncertain: false", async () => {
    service = await startTestService();
    const midSubmit = (id: string) => (store: Store) => {
      if (!store.getUser("u")) store.insertUser({ id: "u", credits: 0, admin: false });
      store.insertTask({
        id,
        userId: "u",
        origin: "image",
        request: { kind: "generate", prompt: id },
        meta: {},
        credits: 0,
      });
      store.updateTask(id, ["pending"], { status: "submitting", addSubmit: true });
    };
    await leaveTasks(midSubmit("again"));
    const restarted = await running().restart();
    expect(restarted.pool.counters.resubmittedUncertain).toBe(1);
    await running().until(
      "/api/v1/ai/image/result/again",
      running().adminKey,
      (body) => body.data?.status === "completed",
    );
    expect(restarted.store.getTask("again")?.submits).toBe(2);

    await leaveTasks(midSubmit("skipped"));
    await running().restart({ resubmitUncertain: false });
    const failed = await running().until(
      "/api/v1/ai/image/result/skipped",
      running().adminKey,
      (_body, status) => status === 500,
    );
    expect(failed.data.code).toBe("UNCERTAIN_SUBMIT");
    expect(running().emulator.counters.tasksByPrompt.skipped).toBeUndefined();
  });
});
