import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { Store } from "../../src/queue/store.js";
import { emulatorEnv, runCli, tempDir } from "../helpers/cli.js";
import { startServe } from "./serve-process.js";

let emulator: RunningEmulator;
let temp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  emulator = await startEmulator({ durations: { image: 600 } });
  temp = await tempDir("jimeng-serve-cli-");
});
afterEach(async () => {
  await emulator.stop();
  await temp.cleanup();
});

describe("jimeng serve (built CLI)", () => {
  it("prints the admin key once, and on SIGTERM lets a running task finish before it exits 0", async () => {
    const env = { ...emulatorEnv(emulator, `${temp.dir}/config`), JIMENG_POLL_INTERVAL: "20ms" };
    const data = `${temp.dir}/data`;
    const serve = await startServe(["--data", data], { env, cwd: temp.dir });
    expect(serve.adminKey).toMatch(/^jms_/);
    const headers = { authorization: `Bearer ${serve.adminKey}`, "content-type": "application/json" };
    const created = await fetch(`${serve.url}/api/v1/ai/image/task`, {
      method: "POST",
      headers,
      body: JSON.stringify({ prompt: "drain me", user_id: "user_123" }),
    });
    expect(created.status).toBe(201);
    const { data: task } = (await created.json()) as { data: { task_id: string } };
    for (;;) {
      const answer = (await (
        await fetch(`${serve.url}/api/v1/tasks/${task.task_id}`, { headers })
      ).json()) as {
        data: { upstream_task_id: string | null };
      };
      if (answer.data.upstream_task_id) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    serve.run.child.kill("SIGTERM");
    const exit = await serve.run.exited;
    expect(exit.code).toBe(0);
    const store = new Store({ dir: data });
    expect(store.getTask(task.task_id)?.status).toBe("completed");
    store.close();

    // A second start finds the admin in the store and prints no key.
    const again = await startServe(["--data", data], { env, cwd: temp.dir });
    expect(again.adminKey).toBeUndefined();
    again.run.child.kill("SIGTERM");
    expect((await again.run.exited).code).toBe(0);
  }, 60_000);

  it("refuses --insecure-no-auth on a non-loopback address with exit 2, naming the flag", async () => {
    const run = runCli(["serve", "--insecure-no-auth", "--host", "0.0.0.0", "--data", `${temp.dir}/d`], {
      env: emulatorEnv(emulator, `${temp.dir}/config`),
      cwd: temp.dir,
    });
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain("--host");
  }, 30_000);
});
