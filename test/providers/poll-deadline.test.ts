import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/errors.js";
import { SessionProvider } from "../../src/providers/session/provider.js";
import type { Provider, TaskRef } from "../../src/providers/types.js";
import { VisualProvider } from "../../src/providers/visual/provider.js";
import { startServer } from "../helpers/http-server.js";
import { rejection } from "../helpers/rejection.js";

/** A poll given a time budget ends within it, even against a server that never answers. */
describe("a poll's timeout reaches the request", () => {
  let close: (() => Promise<void>) | undefined;
  let provider: Provider | undefined;
  afterEach(async () => {
    await provider?.close();
    await close?.();
  });

  async function silentServer(): Promise<string> {
    const server = await startServer(() => {
      // Never answers: only the poll's own deadline can end the request.
    });
    close = server.close;
    return server.url;
  }

  const cases: [string, (endpoint: string) => Provider, TaskRef][] = [
    [
      "visual",
      (endpoint) => new VisualProvider({ accessKeyId: "AKLTtest", secretAccessKey: "secret", endpoint }),
      {
        provider: "visual",
        taskId: "7392616336519610409",
        model: "jimeng_t2i_v40",
        kind: "generate",
        submittedAt: "2026-01-01T00:00:00.000Z",
      },
    ],
    [
      "session",
      (endpoint) => new SessionProvider({ sessionId: "session-1", endpoint, queryStyle: "generic" }),
      {
        provider: "session",
        taskId: "4721358125",
        model: "jimeng-4.5",
        kind: "generate",
        submittedAt: "2026-01-01T00:00:00.000Z",
      },
    ],
  ];

  it.each(cases)("%s: get(ref, { timeout: 200 }) fails with a request TimeoutError", async (_, make, ref) => {
    provider = make(await silentServer());
    const error = await rejection(provider.get(ref, { timeout: 200 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).taskId).toBeUndefined();
  });
});
