import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import * as emulatorEntry from "../src/emulator/index.js";
import * as sdk from "../src/index.js";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));

/** Every file the built module loads through static imports, itself included. */
function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const specifiers = /\b(?:import|export)\s*(?:[^'";]*?\bfrom\s*)?['"](\.[^'"]+)['"]/g;
  for (const match of readFileSync(file, "utf8").matchAll(specifiers)) {
    staticGraph(join(dirname(file), match[1] as string), seen);
  }
  return seen;
}

describe("the public SDK surface", () => {
  let emulator: emulatorEntry.RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it("exports the task engine, both providers, the errors and the signer", () => {
    for (const name of [
      "Jimeng",
      "createProvider",
      "VisualClient",
      "VisualProvider",
      "SessionClient",
      "SessionProvider",
      "JimengError",
      "RequestTimeoutError",
      "WaitTimeoutError",
      "DownloadError",
      "TaskFailedError",
      "VolcSigner",
    ]) {
      expect(typeof (sdk as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(sdk.VISUAL_MODELS.length).toBeGreaterThan(10);
    expect(sdk.SESSION_MODELS.length).toBeGreaterThan(10);
  });

  it("keeps the emulator and internals off the main entry; jimeng/emulator has the emulator", () => {
    for (const name of ["startEmulator", "DEMO_CREDENTIALS", "ThrottleFeed", "imagePixelSize"]) {
      expect(name in sdk, name).toBe(false);
    }
    expect(typeof emulatorEntry.startEmulator).toBe("function");
    expect(emulatorEntry.DEMO_CREDENTIALS.accessKeyId).toBeTruthy();
  });

  it("the built main entry does not load the emulator's code", () => {
    const index = join(DIST, "index.js");
    expect(existsSync(index)).toBe(true);
    const loaded = [...staticGraph(index)].map((file) => readFileSync(file, "utf8"));
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.some((code) => code.includes("emulator failure"))).toBe(false);
    // The marker is real: the emulator entry does load it.
    const emulatorCode = [...staticGraph(join(DIST, "emulator.js"))].map((file) =>
      readFileSync(file, "utf8"),
    );
    expect(emulatorCode.some((code) => code.includes("emulator failure"))).toBe(true);
  });

  it("generates an image end to end with nothing but public exports", async () => {
    emulator = await emulatorEntry.startEmulator({ durations: { image: 5 } });
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
