import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { fakeTerminal, tempConfigDir } from "./helpers.js";

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

async function cli(argv: string[]) {
  const t = fakeTerminal({
    env: {
      JIMENG_CONFIG_DIR: config.dir,
      JIMENG_SESSION_ENDPOINT: emulator.url,
      JIMENG_SESSION_ID: emulator.credentials.sessionId,
      JIMENG_POLL_INTERVAL: "5ms",
    },
    signal: new AbortController().signal,
  });
  const code = await main(argv, t.io);
  return { code, out: t.out(), err: t.err() };
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
