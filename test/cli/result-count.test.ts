import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runMain } from "../helpers/cli.js";
import { tempConfigDir } from "./helpers.js";

let emulator: RunningEmulator;
let config: ReturnType<typeof tempConfigDir>;
beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5 } });
  config = tempConfigDir();
});
afterAll(async () => {
  await emulator.stop();
  config.cleanup();
});

function cli(argv: string[]) {
  const settings = emulatorSettings(emulator, config.dir);
  return runMain(argv, {
    env: {
      JIMENG_CONFIG_DIR: settings.JIMENG_CONFIG_DIR,
      JIMENG_SESSION_ENDPOINT: settings.JIMENG_SESSION_ENDPOINT,
      JIMENG_SESSION_ID: settings.JIMENG_SESSION_ID,
      JIMENG_POLL_INTERVAL: "5ms",
    },
  });
}

describe("jimeng submit -n then jimeng result", () => {
  it("keeps the count asked at submit, in another run of the CLI", async () => {
    const submitted = await cli(["--json", "submit", "generate", "a cat", "-n", "1"]);
    expect(submitted.code, submitted.err).toBe(0);
    const { taskId } = JSON.parse(submitted.out) as { taskId: string };
    const result = await cli([
      "--json",
      "result",
      taskId,
      "--wait",
      "--download",
      "-o",
      join(config.dir, "..", "out"),
    ]);
    expect(result.code, result.err).toBe(0);
    const document = JSON.parse(result.out) as { outputs: { file?: string }[] };
    expect(document.outputs).toHaveLength(1);
    expect(document.outputs[0]?.file).toBeDefined();
  });
});
