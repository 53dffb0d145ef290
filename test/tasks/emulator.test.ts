/** The task engine end to end over loopback: the session provider, the emulator and the real media layer. */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { sessionRoutes } from "../../src/emulator/session-routes.js";
import { SessionProvider } from "../../src/providers/session/provider.js";
import { Jimeng } from "../../src/tasks/client.js";
import type { TaskEvent } from "../../src/tasks/events.js";

let emulator: RunningEmulator | undefined;
let dir: string | undefined;

afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("Jimeng against the emulator", () => {
  it("submits, polls in virtual time until the emulated task ends, and saves its outputs", async () => {
    // One virtual clock for the emulator's task timer and the client's schedule: no real waiting.
    const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
    emulator = await startEmulator({
      routes: [sessionRoutes],
      clock: () => clock.now,
      durations: { image: 12_000 },
      credentials: { sessionId: "good-one" },
    });
    dir = await mkdtemp(join(tmpdir(), "jimeng-tasks-"));
    const jimeng = new Jimeng({
      provider: new SessionProvider({ sessionId: "good-one", endpoint: emulator.url }),
      clock: { now: () => clock.now },
      sleep: async (ms) => {
        clock.now += ms;
      },
      random: () => 0,
    });
    const events: TaskEvent[] = [];
    const submittedAt = clock.now;
    try {
      const result = await jimeng.generate(
        { prompt: "a lighthouse at dusk", count: 1 },
        { download: { dir }, onEvent: (event) => events.push(event) },
      );
      expect(result.status.status).toBe("succeeded");
      expect(result.files).toHaveLength(1);
      const file = result.files?.[0];
      const bytes = await readFile(file?.file as string);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(file?.sha256);
      expect(events[0]).toMatchObject({ type: "submitted", ref: { taskId: result.ref.taskId } });
      expect(events.at(-1)).toMatchObject({ type: "done", files: 1 });
      // Found within a second or two of the emulated 12 s, in a handful of polls.
      const finished = Date.parse(result.finishedAt) - submittedAt;
      expect(finished).toBeGreaterThanOrEqual(12_000);
      expect(finished).toBeLessThanOrEqual(14_000);
      expect(result.polls).toBeLessThan(12);
    } finally {
      await jimeng.close();
    }
  });
});
