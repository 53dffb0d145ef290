import { describe, expect, it } from "vitest";
import { AbortError, TimeoutError, ValidationError } from "../../src/errors.js";
import type { ResolvedImage } from "../../src/providers/types.js";
import { type DownloadOutputs, Jimeng, type ResolveImages } from "../../src/tasks/client.js";
import { TaskFailedError } from "../../src/tasks/errors.js";
import type { TaskEvent } from "../../src/tasks/events.js";
import { rejection } from "../helpers/rejection.js";
import { type Answer, FakeProvider, FakeTime } from "./fakes.js";

function setup(answers: Answer[] = ["running", "succeeded"], options: { callOnSubmitted?: boolean } = {}) {
  const time = new FakeTime();
  const provider = new FakeProvider(time, answers, options);
  const log: string[] = [];
  const resolveImages: ResolveImages = async (inputs, model) => {
    if (inputs.length === 0) return [];
    if (model.images === null) {
      throw new ValidationError([{ path: "images", message: `model ${model.id} takes no reference images` }]);
    }
    log.push(`resolveImages ${inputs.length} for ${model.id}`);
    return inputs.map((_, i): ResolvedImage => ({ source: "url", url: `http://127.0.0.1/in-${i}.png` }));
  };
  const downloadOutputs: DownloadOutputs = async (outputs, { dir, context, onProgress }) => {
    log.push(`download ${outputs.length} to ${dir} for ${context.taskId} (${context.prompt})`);
    onProgress?.({ index: 0, bytes: 10, total: 20 });
    onProgress?.({ index: 0, bytes: 20, total: 20 });
    return outputs.map((output, index) => ({
      index,
      file: `${dir}/out-${index}.png`,
      bytes: 20,
      sha256: "ab".repeat(32),
      contentType: "image/png",
      ...(output.url ? { url: output.url } : {}),
    }));
  };
  const jimeng = new Jimeng({
    provider,
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0,
    media: { resolveImages, downloadOutputs },
  });
  return { time, provider, jimeng, log };
}

describe("Jimeng.generate", () => {
  it("hands the task id to onSubmitted before the first poll", async () => {
    const { jimeng, provider } = setup();
    const order: string[] = [];
    await jimeng.generate(
      { prompt: "a cat" },
      {
        onSubmitted: (ref) => {
          order.push(
            `submitted ${ref.taskId} after ${provider.calls.filter((c) => c === "get").length} polls`,
          );
        },
      },
    );
    expect(order).toEqual(["submitted task-42 after 0 polls"]);
  });

  it("records the id even when the provider never calls the hook itself, still before any poll", async () => {
    const { jimeng, provider } = setup(["succeeded"], { callOnSubmitted: false });
    const seen: number[] = [];
    await jimeng.generate(
      { prompt: "a cat" },
      { onSubmitted: () => void seen.push(provider.polledAt.length) },
    );
    expect(seen).toEqual([0]);
  });

  it("resolves the succeeded status with its timings and poll count", async () => {
    const { jimeng, time } = setup(["queued", "running", "succeeded"]);
    const started = time.now;
    const result = await jimeng.generate({ prompt: "a cat", ratio: "16:9" });
    expect(result.status.status).toBe("succeeded");
    expect(result.polls).toBe(3);
    expect(result.ref.taskId).toBe("task-42");
    expect(result.submittedAt).toBe(new Date(started).toISOString());
    expect(Date.parse(result.finishedAt)).toBe(time.now);
    expect(result.files).toBeUndefined();
  });

  it("downloads the outputs when asked, with the prompt and task id as naming context", async () => {
    const { jimeng, log } = setup(["succeeded"]);
    const events: TaskEvent[] = [];
    const result = await jimeng.generate(
      { prompt: "a cat" },
      { download: { dir: "/tmp/out" }, onEvent: (event) => events.push(event) },
    );
    expect(result.files).toEqual([expect.objectContaining({ file: "/tmp/out/out-0.png", bytes: 20 })]);
    expect(log).toEqual(["download 1 to /tmp/out for task-42 (a cat)"]);
    expect(events.map((event) => event.type)).toEqual([
      "submitted",
      "status",
      "download",
      "download",
      "done",
    ]);
    expect(events.at(-1)).toMatchObject({ type: "done", status: "succeeded", polls: 1, files: 1 });
  });

  it("sends the resolved input images with the chosen model to the provider", async () => {
    const { jimeng, provider, log } = setup(["succeeded"]);
    await jimeng.generate({ prompt: "a cat", kind: "compose", images: ["./a.png", "./b.png"], count: 2 });
    expect(log).toEqual(["resolveImages 2 for img-1"]);
    expect(provider.submitted[0]).toMatchObject({
      kind: "compose",
      prompt: "a cat",
      count: 2,
      model: { id: "img-1" },
      images: [{ url: "http://127.0.0.1/in-0.png" }, { url: "http://127.0.0.1/in-1.png" }],
    });
  });

  it("throws TaskFailedError carrying the task id when the task fails, without downloading", async () => {
    const { jimeng, log } = setup(["running", "failed"]);
    const error = await rejection(jimeng.generate({ prompt: "a cat" }, { download: { dir: "/tmp/out" } }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ taskId: "task-42", code: 2038, requestId: "req-7" });
    expect(log).toEqual([]);
  });

  it("throws TimeoutError with the task id when the task outlives the timeout", async () => {
    const { jimeng } = setup(["running"]);
    const error = await rejection(jimeng.generate({ prompt: "a cat" }, { timeout: 20_000 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ taskId: "task-42", lastStatus: "running" });
  });

  it("throws AbortError with the task id when aborted during the download, never resolving", async () => {
    const { provider, time } = setup(["succeeded"]);
    const controller = new AbortController();
    const jimeng = new Jimeng({
      provider,
      clock: time.clock,
      sleep: time.sleep,
      media: {
        downloadOutputs: async () => {
          controller.abort();
          throw new AbortError();
        },
      },
    });
    const error = await rejection(
      jimeng.generate({ prompt: "a cat" }, { signal: controller.signal, download: { dir: "/tmp/out" } }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ taskId: "task-42" });
  });
});

describe("Jimeng.submit validation", () => {
  const cases: [string, Parameters<Jimeng["submit"]>[0], RegExp][] = [
    ["an empty prompt", { prompt: "   " }, /prompt/],
    ["a malformed ratio", { prompt: "a cat", ratio: "wide" }, /ratio/],
    ["an unknown model", { prompt: "a cat", model: "nope" }, /unknown model/],
    [
      "a prompt over the model's limit",
      { prompt: "x".repeat(21) },
      /prompt: is 21 characters; img-1 accepts at most 20/,
    ],
    ["a ratio the model does not offer", { prompt: "a cat", ratio: "4:3" }, /4:3 is not a ratio of img-1/],
    [
      "a duration the model does not offer",
      { prompt: "a cat", kind: "video", duration: 7 },
      /7s.*vid-1.*5, 10/,
    ],
    [
      "images the media layer rejects",
      { prompt: "a cat", kind: "video", images: ["a.png"] },
      /vid-1 takes no reference images/,
    ],
  ];

  for (const [what, request, message] of cases) {
    it(`rejects ${what} before the provider is asked to submit`, async () => {
      const { jimeng, provider, log } = setup();
      const error = await rejection(jimeng.submit(request));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(message);
      expect(provider.calls.filter((call) => call !== "resolveModel")).toEqual([]);
      expect(log).toEqual([]);
    });
  }

  it("names the option and the model when the model does not accept an option", async () => {
    const { jimeng, provider } = setup();
    const error = await rejection(jimeng.submit({ prompt: "a cat", strength: 0.5, duration: 5 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: "strength", message: "model img-1 does not accept strength; it accepts ratio, count, seed" },
      { path: "duration", message: "model img-1 does not accept duration; it accepts ratio, count, seed" },
    ]);
    expect(provider.calls).not.toContain("submit");
  });

  it("leaves a text-to-image request without references unchecked by the media layer, but not a composition", async () => {
    const { provider, time } = setup(["succeeded"]);
    const checked: string[] = [];
    const jimeng = new Jimeng({
      provider,
      clock: time.clock,
      sleep: time.sleep,
      media: {
        resolveImages: async (inputs, model) => {
          checked.push(`${inputs.length} for ${model.id}`);
          throw new ValidationError([
            { path: "images", message: `model ${model.id} needs a reference image` },
          ]);
        },
      },
    });
    await jimeng.submit({ prompt: "a cat" });
    await expect(jimeng.submit({ prompt: "a cat", kind: "compose" })).rejects.toBeInstanceOf(ValidationError);
    expect(checked).toEqual(["0 for img-1"]);
    expect(provider.calls.filter((call) => call === "submit")).toHaveLength(1);
  });

  it("makes no provider call at all when the request does not match the schema", async () => {
    const { jimeng, provider } = setup();
    await expect(jimeng.submit({ prompt: "a cat", count: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect(provider.calls).toEqual([]);
  });

  it("rejects a misspelt option by name instead of dropping it, before any provider call", async () => {
    const { jimeng, provider } = setup();
    const typo = { prompt: "a cat", ratoi: "16:9" } as Parameters<typeof jimeng.submit>[0];
    const error = await rejection(jimeng.submit(typo));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toContain("ratoi");
    expect(provider.calls).toEqual([]);
  });

  it("makes no provider call when the signal was already aborted", async () => {
    const { jimeng, provider } = setup();
    await expect(jimeng.submit({ prompt: "a cat" }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(provider.calls).toEqual([]);
  });
});

describe("Jimeng helpers", () => {
  it("waitFor resumes a task by its ref and emits done", async () => {
    const { jimeng, provider } = setup(["running", "succeeded"]);
    const events: string[] = [];
    const result = await jimeng.waitFor(provider.ref(), { onEvent: (event) => events.push(event.type) });
    expect(result.status.outputs).toHaveLength(1);
    expect(events).toEqual(["status", "status", "done"]);
  });

  it("getTask returns one status", async () => {
    const { jimeng, provider } = setup(["queued"]);
    expect((await jimeng.getTask(provider.ref())).status).toBe("queued");
  });

  it("close closes the provider", async () => {
    const { jimeng, provider } = setup();
    await jimeng.close();
    expect(provider.closed).toBe(true);
  });
});

describe("Jimeng maxPollIntervalMs", () => {
  it("caps every wait between polls, the first one included", async () => {
    const time = new FakeTime();
    const provider = new FakeProvider(time, ["queued", "running", "running", "succeeded"]);
    const jimeng = new Jimeng({
      provider,
      clock: time.clock,
      sleep: time.sleep,
      random: () => 0,
      maxPollIntervalMs: 100,
    });
    await jimeng.generate({ prompt: "a cat" });
    expect(time.pauses.length).toBeGreaterThan(0);
    expect(Math.max(...time.pauses)).toBeLessThanOrEqual(100);
  });

  it("leaves the model's schedule alone when not set (first poll at the model's prior)", async () => {
    const time = new FakeTime();
    const provider = new FakeProvider(time, ["succeeded"]);
    const jimeng = new Jimeng({ provider, clock: time.clock, sleep: time.sleep, random: () => 0 });
    await jimeng.generate({ prompt: "a cat" });
    expect(time.pauses[0]).toBe(8000);
  });
});
