import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import {
  AbortError,
  ApiError,
  AuthError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  TimeoutError,
  WaitTimeoutError,
} from "../../src/errors.js";
import { sleep as realSleep } from "../../src/http/sleep.js";
import type { TaskStatus } from "../../src/providers/types.js";
import { TaskFailedError } from "../../src/tasks/errors.js";
import type { TaskEvent } from "../../src/tasks/events.js";
import { type WaitOptions, waitForTask } from "../../src/tasks/wait.js";
import { rejection } from "../helpers/rejection.js";
import { type Answer, FakeProvider, FakeTime, IMAGE_MODEL, VIDEO_MODEL } from "./fakes.js";

function setup(answers: Answer[]) {
  const time = new FakeTime();
  const provider = new FakeProvider(time, answers);
  const ref = provider.ref();
  const start = time.now;
  const wait = (options: WaitOptions = {}) =>
    waitForTask(provider, ref, options, { clock: time.clock, sleep: time.sleep, random: () => 0 });
  return { time, provider, ref, start, wait };
}

/** A schedule of 1 ms steps, for the tests that use the real timer-based sleep. */
const TINY = {
  random: () => 0,
  schedule: { firstMs: 1, floorMs: 1, minIntervalMs: 1, capMs: 1, fraction: 0, jitter: 0 },
};

const network = () => new NetworkError("socket hang up", { notSent: false });

describe("waitFor", () => {
  it("gives every poll only the time left of the wait, so no poll can outlive it", async () => {
    const { wait, provider, start } = setup(["running"]);
    await expect(wait({ timeout: 60_000 })).rejects.toBeInstanceOf(TimeoutError);
    expect(provider.pollTimeouts.length).toBeGreaterThan(2);
    provider.pollTimeouts.forEach((timeout, index) => {
      const left = start + 60_000 - (provider.polledAt[index] as number);
      expect(timeout).toBe(Math.max(1, left));
    });
  });

  it("resolves with the outputs when the task succeeds, having polled first at the model's prior", async () => {
    const { wait, provider, start } = setup(["queued", "running", "succeeded"]);
    const result = await wait();
    expect(result.status.status).toBe("succeeded");
    expect(result.status.outputs).toEqual([{ url: "http://127.0.0.1/out.png" }]);
    expect(result.polls).toBe(3);
    expect(provider.polledAt[0]).toBe(start + IMAGE_MODEL.expectedSeconds.min * 1000);
  });

  it("reports every status through onUpdate and status events, in order", async () => {
    const { wait } = setup(["queued", "running", "succeeded"]);
    const seen: string[] = [];
    const events: TaskEvent[] = [];
    await wait({ onUpdate: (status) => seen.push(status.status), onEvent: (event) => events.push(event) });
    expect(seen).toEqual(["queued", "running", "succeeded"]);
    expect(events.map((event) => (event.type === "status" ? event.poll : event.type))).toEqual([1, 2, 3]);
  });

  it("throws TaskFailedError with the provider's code, request id and the task id when the task fails", async () => {
    const { wait } = setup(["running", "failed"]);
    const error = await rejection(wait());
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 2038, requestId: "req-7", taskId: "task-42", state: "failed" });
    expect((error as TaskFailedError).toJSON()).toMatchObject({ taskId: "task-42", lastStatus: "failed" });
  });

  it("throws TaskFailedError for an expired task, telling the user to submit again", async () => {
    const { wait } = setup(["expired"]);
    const error = await rejection(wait());
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ state: "expired", taskId: "task-42" });
    expect((error as TaskFailedError).hint).toMatch(/submit it again/);
  });

  it("throws TimeoutError with the task id and last status at the deadline, after a last poll there", async () => {
    const { wait, provider, start, time } = setup(["queued", "running"]);
    const error = await rejection(wait({ timeout: 30_000 }));
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).not.toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ name: "WaitTimeoutError", taskId: "task-42", lastStatus: "running" });
    expect((error as TimeoutError).message).toMatch(/task-42.*30s.*running/);
    expect(provider.polledAt.at(-1)).toBe(start + 30_000);
    expect(time.now).toBe(start + 30_000);
  });

  it("polls once at once with a zero timeout and then times out", async () => {
    const { wait, provider } = setup(["running"]);
    await expect(wait({ timeout: 0 })).rejects.toBeInstanceOf(TimeoutError);
    expect(provider.polledAt).toHaveLength(1);
  });

  it("survives transient poll failures and succeeds, emitting retry events", async () => {
    const { wait } = setup([
      "running",
      network(),
      new RateLimitError("slow down", { provider: "session", httpStatus: 429, code: 429 }),
      new ApiError("bad gateway", { provider: "session", httpStatus: 502, code: 502, retryable: true }),
      new RequestTimeoutError("the request took longer than 30s"),
      "succeeded",
    ]);
    const retries: number[] = [];
    const result = await wait({
      onEvent: (event) => {
        if (event.type === "retry") retries.push(event.attempt);
      },
    });
    expect(result.status.status).toBe("succeeded");
    expect(result.polls).toBe(6);
    expect(retries).toEqual([1, 2, 3, 4]);
  });

  it("waits at least the server's retryAfterMs after a throttled poll", async () => {
    const { wait, time } = setup([
      "running",
      new RateLimitError("slow down", {
        provider: "session",
        httpStatus: 429,
        code: 429,
        retryAfterMs: 7_000,
      }),
      "succeeded",
    ]);
    await wait();
    expect(time.pauses.at(-1)).toBeGreaterThanOrEqual(7_000);
  });

  it("waits the server's hint from a running status before the next poll", async () => {
    const { wait, provider } = setup([{ status: "running", retryAfterMs: 4_200 }, "succeeded"]);
    await wait();
    expect((provider.polledAt[1] as number) - (provider.polledAt[0] as number)).toBe(4_200);
  });

  it("keeps retrying transient failures only until the deadline, then times out with the task id", async () => {
    const { wait } = setup([network()]);
    const error = await rejection(wait({ timeout: 60_000 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ taskId: "task-42" });
    expect((error as TimeoutError).lastStatus).toBeUndefined();
    expect((error as TimeoutError).cause).toBeInstanceOf(NetworkError);
  });

  it("ends the wait on a non-retryable poll failure", async () => {
    const auth = new AuthError("session expired", { provider: "session", httpStatus: 401, code: -2 });
    const { wait, provider } = setup(["running", auth, "succeeded"]);
    await expect(wait()).rejects.toBe(auth);
    expect(provider.polledAt).toHaveLength(2);
  });

  it("throws AbortError with the task id and makes no poll when the signal was already aborted", async () => {
    const { wait, provider } = setup(["succeeded"]);
    const error = await rejection(wait({ signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ taskId: "task-42" });
    expect(provider.polledAt).toHaveLength(0);
  });

  it("never resolves with output when aborted while a poll is in flight", async () => {
    const { provider, ref } = setup([]);
    const controller = new AbortController();
    provider.get = async (): Promise<TaskStatus> => {
      controller.abort();
      return { ref, status: "succeeded", outputs: [{ url: "http://127.0.0.1/partial.png" }] };
    };
    const time = new FakeTime();
    const error = await rejection(
      waitForTask(
        provider,
        ref,
        { signal: controller.signal },
        { clock: time.clock, sleep: time.sleep, random: () => 0 },
      ),
    );
    expect(error).toBeInstanceOf(AbortError);
  });

  it("aborts mid-sleep with AbortError carrying the task id, leaving no abort listener behind", async () => {
    const time = new FakeTime();
    const provider = new FakeProvider(time, ["running"]);
    const controller = new AbortController();
    let sleeps = 0;
    // The real abortable sleep: the first one completes, the caller aborts during the second.
    const sleep = (ms: number, signal?: AbortSignal) => {
      sleeps++;
      time.now += ms;
      if (sleeps === 2) setTimeout(() => controller.abort(), 1);
      return realSleep(sleeps === 1 ? 1 : 60_000, signal);
    };
    const error = await rejection(
      waitForTask(
        provider,
        provider.ref(),
        { signal: controller.signal },
        { ...TINY, clock: time.clock, sleep },
      ),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ taskId: "task-42" });
    expect(sleeps).toBe(2);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("leaves no abort listener behind after a wait that succeeds with the real sleep", async () => {
    const time = new FakeTime();
    const provider = new FakeProvider(time, ["queued", "running", "succeeded"]);
    const controller = new AbortController();
    await waitForTask(
      provider,
      provider.ref(),
      { signal: controller.signal },
      { ...TINY, clock: time.clock, sleep: realSleep },
    );
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expect(provider.polledAt).toHaveLength(3);
  });

  it("counts elapsed time from submission, so a resumed wait polls at once", async () => {
    const { time, provider, ref } = setup(["succeeded"]);
    time.now += 10 * 60_000;
    const resumedAt = time.now;
    await waitForTask(provider, ref, {}, { clock: time.clock, sleep: time.sleep, random: () => 0 });
    expect(provider.polledAt).toEqual([resumedAt]);
  });

  it("uses fallback priors when the task's model is unknown to the provider", async () => {
    const { time, provider, start } = setup(["succeeded"]);
    const ref = { ...provider.ref(VIDEO_MODEL, "video"), model: "from-the-future" };
    await waitForTask(provider, ref, {}, { clock: time.clock, sleep: time.sleep, random: () => 0 });
    expect(provider.polledAt[0]).toBe(start + 30_000);
  });
});
