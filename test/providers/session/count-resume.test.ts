import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../../src/emulator/server.js";
import { SessionProvider } from "../../../src/providers/session/provider.js";
import { Jimeng } from "../../../src/tasks/client.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5 } });
});
afterAll(async () => {
  await emulator.stop();
});

describe("session count across processes", () => {
  it("keeps the first N outputs when another provider instance (a resumed process) polls the task", async () => {
    const options = { sessionId: emulator.credentials.sessionId, endpoint: emulator.url };
    const submitter = new Jimeng({ provider: new SessionProvider(options) });
    const ref = await submitter.submit({ prompt: "four made, one kept", count: 1 });
    await submitter.close();
    expect(ref.count).toBe(1);

    const restored = JSON.parse(JSON.stringify(ref)) as typeof ref; // as a journal or task list stores it
    const resumed = new Jimeng({ provider: new SessionProvider(options), maxPollIntervalMs: 5 });
    const result = await resumed.waitFor(restored);
    await resumed.close();
    expect(result.status.outputs).toHaveLength(1);
    expect(emulator.tasks().find((t) => t.id === ref.taskId)?.outputs.length).toBeGreaterThan(1);
  });
});
