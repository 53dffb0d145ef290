import { afterEach, describe, expect, it } from "vitest";
import { RateLimitError } from "../../src/errors.js";
import { createProvider } from "../../src/providers/create.js";
import type { Provider } from "../../src/providers/types.js";
import { REDIS_SERVER, reportRedisMissing } from "../helpers/redis.js";
import { call, closeAll, deployment, until } from "./deployment.js";

reportRedisMissing("test/queue/redis-rate.test.ts");

afterEach(closeAll);

describe.runIf(REDIS_SERVER)("one upstream rate limit for every worker", () => {
  it("four workers sharing --upstream-qps 20 never go over an emulator that throttles above 20 requests a second", async () => {
    const deploy = await deployment({ durations: { image: 150 }, faults: { qps: 20 } });
    const node = await deploy.node();
    const key = node.adminKey as string;
    for (let i = 0; i < 4; i++)
      await deploy.worker({ upstreamQps: 20, concurrency: 4, maxPollIntervalMs: 20 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        (await call(node, "POST", "/api/v1/ai/image/task", key, { prompt: `qps ${i}` })).body.data.task_id,
      );
    }
    for (const id of ids) await until(node, id, key, (task) => task.status === "completed");
    expect(deploy.emulator.counters.faults["throttle-qps"] ?? 0).toBe(0);
    expect(Object.values(deploy.emulator.counters.tasksByPrompt)).toEqual(Array(12).fill(1));
  });

  it("a throttled submit pauses the queue (queue.rateLimit) and runs again later, never submitted twice", async () => {
    const deploy = await deployment({ durations: { image: 50 } });
    const node = await deploy.node();
    const key = node.adminKey as string;
    const provider = createProvider({
      provider: "visual",
      accessKeyId: deploy.emulator.credentials.accessKeyId,
      secretAccessKey: deploy.emulator.credentials.secretAccessKey,
      endpoint: deploy.emulator.url,
    });
    // The account refuses each task's first submit (HTTP 429) before it reaches the emulator.
    const refused = new Set<string>();
    const throttling: Provider = {
      ...provider,
      resolveModel: (name, kind) => provider.resolveModel(name, kind),
      submit: async (request, options) => {
        if (!refused.has(request.prompt)) {
          refused.add(request.prompt);
          throw new RateLimitError("too many requests", {
            provider: "visual",
            code: 50429,
            httpStatus: 429,
            retryAfterMs: 300,
          });
        }
        return provider.submit(request, options);
      },
      get: (ref, options) => provider.get(ref, options),
      close: () => provider.close(),
    };
    const worker = await deploy.worker({ provider: throttling, concurrency: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await call(node, "POST", "/api/v1/ai/image/task", key, { prompt: `throttled ${i}` })).body.data
          .task_id,
      );
    }
    for (const id of ids) await until(node, id, key, (task) => task.status === "completed");
    expect(worker.counters.throttled).toBe(3);
    expect(Object.values(deploy.emulator.counters.tasksByPrompt)).toEqual([1, 1, 1]);
  });
});
