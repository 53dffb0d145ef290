import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startEmulator } from "../../src/emulator/server.js";
import { fakeTerminal } from "./helpers.js";

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  while (!text.includes("\n")) {
    const [chunk] = await once(stream, "data");
    text += String(chunk);
  }
  return text.slice(0, text.indexOf("\n"));
}

describe("jimeng emulate", () => {
  it("serves on loopback, prints its endpoints and demo credentials as JSON, and stops cleanly on Ctrl-C", async () => {
    const interrupt = new AbortController();
    const t = fakeTerminal({ signal: interrupt.signal });
    const line = firstLine(t.streams.stdout);
    const exit = main(["emulate", "--json", "--seed", "7"], t.io);

    const document = JSON.parse(await line);
    expect(document.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(document.visualEndpoint).toBe(document.url);
    expect(document.sessionEndpoint).toBe(document.url);
    expect(document.credentials).toEqual({
      accessKeyId: expect.any(String),
      secretAccessKey: expect.any(String),
      sessionId: expect.any(String),
      arkApiKey: expect.any(String),
    });
    expect(document.arkEndpoint).toBe(`${document.url}/api/v3`);
    expect(document.env).toMatchObject({
      JIMENG_VISUAL_ENDPOINT: document.url,
      VOLC_ACCESSKEY: document.credentials.accessKeyId,
      JIMENG_SESSION_ID: document.credentials.sessionId,
      JIMENG_ARK_ENDPOINT: document.arkEndpoint,
      ARK_API_KEY: document.credentials.arkApiKey,
    });

    const counters = await fetch(`${document.url}/__emulator/counters`);
    expect(counters.status).toBe(200);

    interrupt.abort();
    expect(await exit).toBe(0);
    expect(t.err()).toContain("Emulator stopped after 1 requests");
    await expect(fetch(`${document.url}/__emulator/counters`)).rejects.toThrow();
  });

  it("takes task durations and a time scale, and announces the poll pace that suits them", async () => {
    const interrupt = new AbortController();
    const t = fakeTerminal({ signal: interrupt.signal });
    const line = firstLine(t.streams.stdout);
    const exit = main(
      ["emulate", "--json", "--image-duration", "30s", "--video-duration", "60s", "--time-scale", "10"],
      t.io,
    );
    const document = JSON.parse(await line);
    // 30 s of emulator time at 10× is 3 s of real time: poll every 300 ms.
    expect(document.env.JIMENG_POLL_INTERVAL).toBe("300ms");

    // A client pointed at it with the printed environment polls at that pace: several polls during the 3 s
    // task (at the real services' pace the first poll would come after ~8 s: one poll).
    const root = mkdtempSync(join(tmpdir(), "jimeng-emulate-"));
    const client = fakeTerminal({ env: { ...document.env, JIMENG_CONFIG_DIR: join(root, "config") } });
    expect(await main(["--json", "generate", "a cat", "-n", "1", "-o", join(root, "out")], client.io)).toBe(
      0,
    );
    expect(JSON.parse(client.out()).timings.polls).toBeGreaterThan(1);
    interrupt.abort();
    expect(await exit).toBe(0);
    rmSync(root, { recursive: true, force: true });
  });

  it("an SDK emulator says which poll interval suits it", async () => {
    const emulator = await startEmulator({ durations: { image: 50, video: [100, 300] } });
    expect(emulator.pollIntervalMs).toBe(5);
    await emulator.stop();
    const realistic = await startEmulator({ durations: { image: 25_000, video: 90_000 }, timeScale: 20 });
    expect(realistic.pollIntervalMs).toBe(125);
    await realistic.stop();
  });

  it("rejects a bad --fail-rate or --port with exit code 2 before starting", async () => {
    const rate = fakeTerminal();
    expect(await main(["emulate", "--fail-rate", "1.5"], rate.io)).toBe(2);
    expect(rate.err()).toContain("--fail-rate");
    const port = fakeTerminal();
    expect(await main(["emulate", "--port", "http"], port.io)).toBe(2);
    expect(port.err()).toContain("--port");
  });
});
