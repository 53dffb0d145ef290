import { afterEach, describe, expect, it } from "vitest";
import * as sdk from "../src/index.js";

describe("the public SDK surface", () => {
  let emulator: sdk.RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it("exports the task engine, both providers, the errors and the emulator", () => {
    for (const name of [
      "Jimeng",
      "createProvider",
      "VisualClient",
      "VisualProvider",
      "SessionClient",
      "SessionProvider",
      "JimengError",
      "TaskFailedError",
      "startEmulator",
      "VolcSigner",
    ]) {
      expect(typeof (sdk as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(sdk.VISUAL_MODELS.length).toBeGreaterThan(10);
    expect(sdk.SESSION_MODELS.length).toBeGreaterThan(10);
  });

  it("generates an image end to end with nothing but public exports", async () => {
    emulator = await sdk.startEmulator({ durations: { image: 5 } });
    const { accessKeyId, secretAccessKey } = emulator.credentials;
    const jimeng = new sdk.Jimeng({
      provider: sdk.createProvider({
        provider: "visual",
        accessKeyId,
        secretAccessKey,
        endpoint: emulator.url,
      }),
    });
    const result = await jimeng.generate({ prompt: "a cat", model: "jimeng-4.0", count: 1 });
    expect(result.status.status).toBe("succeeded");
    expect(result.status.outputs.length).toBeGreaterThan(0);
    await jimeng.close();
  });
});
