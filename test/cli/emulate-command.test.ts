import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
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
    });
    expect(document.env).toMatchObject({
      JIMENG_VISUAL_ENDPOINT: document.url,
      VOLC_ACCESSKEY: document.credentials.accessKeyId,
      JIMENG_SESSION_ID: document.credentials.sessionId,
    });

    const counters = await fetch(`${document.url}/__emulator/counters`);
    expect(counters.status).toBe(200);

    interrupt.abort();
    expect(await exit).toBe(0);
    expect(t.err()).toContain("Emulator stopped after 1 requests");
    await expect(fetch(`${document.url}/__emulator/counters`)).rejects.toThrow();
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
