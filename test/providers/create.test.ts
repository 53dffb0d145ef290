import { afterEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { createProvider } from "../../src/providers/create.js";

describe("createProvider", () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it("builds each provider from tagged options, and both talk to the emulator", async () => {
    emulator = await startEmulator({ durations: { image: 1, video: 1 } });
    const { accessKeyId, secretAccessKey, sessionId } = emulator.credentials;
    const visual = createProvider({
      provider: "visual",
      accessKeyId,
      secretAccessKey,
      endpoint: emulator.url,
    });
    const session = createProvider({ provider: "session", sessionId, endpoint: emulator.url });
    expect([visual.name, session.name]).toEqual(["visual", "session"]);
    for (const provider of [visual, session]) {
      const model = provider.resolveModel(undefined, "generate");
      const ref = await provider.submit({ kind: "generate", prompt: "a cat", model, images: [] });
      expect(ref.provider).toBe(provider.name);
      expect(ref.taskId).toMatch(/^\d+$/);
      await provider.close();
    }
    expect(emulator.counters.tasks).toBe(2);
  });
});
