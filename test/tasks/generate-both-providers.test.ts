import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { createProvider } from "../../src/providers/create.js";
import { Jimeng } from "../../src/tasks/client.js";

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 30, video: 60 } });
  dir = mkdtempSync(join(tmpdir(), "jimeng-generate-"));
});
afterAll(async () => {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

function client(provider: "visual" | "session"): Jimeng {
  const { accessKeyId, secretAccessKey, sessionId } = emulator.credentials;
  const options =
    provider === "visual"
      ? { provider, accessKeyId, secretAccessKey, endpoint: emulator.url }
      : { provider, sessionId, endpoint: emulator.url };
  return new Jimeng({ provider: createProvider(options), maxPollIntervalMs: 20 });
}

describe("generate() works the same way on both providers", () => {
  it.each([
    ["visual", "generate"],
    ["session", "generate"],
    ["visual", "video"],
    ["session", "video"],
  ] as const)("%s %s: files on disk match the emulator's outputs by sha256", async (provider, kind) => {
    const jimeng = client(provider);
    const out = join(dir, `${provider}-${kind}`);
    const result = await jimeng.generate(
      { kind, prompt: `a ${provider} ${kind} test`, ...(kind === "video" ? { duration: 5 } : { count: 1 }) },
      { download: { dir: out } },
    );
    await jimeng.close();
    const task = emulator.tasks().find((t) => t.id === result.ref.taskId);
    expect(result.status.status).toBe("succeeded");
    expect(result.files?.length).toBeGreaterThan(0);
    for (const file of result.files ?? []) {
      const digest = createHash("sha256").update(readFileSync(file.file)).digest("hex");
      expect(digest).toBe(file.sha256);
      expect(task?.outputs.map((o) => o.sha256)).toContain(digest);
      expect(file.file.startsWith(out)).toBe(true);
    }
  });
});
