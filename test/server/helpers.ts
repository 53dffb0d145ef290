/**
 * A `jimeng serve` on the built-in emulator for tests: millisecond generations, a temp data folder, requests
 * through fastify's `inject()` (no socket) unless a test listens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { createProvider } from "../../src/providers/create.js";
import { createServer, type RunningServer, type ServerOptions } from "../../src/server/server.js";

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON documents that the tests' assertions check.
export type Json = any;

export interface TestService {
  server: RunningServer;
  emulator: RunningEmulator;
  data: string;
  adminKey: string;
  /** JSON request through inject(); `key` undefined sends no Authorization header. */
  call(
    method: string,
    url: string,
    options?: { key?: string | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json; headers: Record<string, unknown>; raw: Buffer }>;
  /** Polls `url` until `done(body)` holds (the worker runs in the background). */
  until(url: string, key: string, done: (body: Json, status: number) => boolean): Promise<Json>;
  /** Starts another server on the same data folder (a restart). */
  restart(options?: Partial<ServerOptions>): Promise<RunningServer>;
  close(): Promise<void>;
}

export async function startTestService(
  options: Partial<ServerOptions> = {},
  emulatorOptions: EmulatorOptions = {},
  providerName: "visual" | "ark" = "visual",
): Promise<TestService> {
  const emulator = await startEmulator({ durations: { image: 15, video: 25 }, ...emulatorOptions });
  const data = options.data ?? (await mkdtemp(path.join(tmpdir(), "jimeng-serve-")));
  const provider = () =>
    providerName === "ark"
      ? createProvider({
          provider: "ark",
          apiKey: emulator.credentials.arkApiKey,
          endpoint: `${emulator.url}/api/v3`,
        })
      : createProvider({
          provider: "visual",
          accessKeyId: emulator.credentials.accessKeyId,
          secretAccessKey: emulator.credentials.secretAccessKey,
          endpoint: emulator.url,
        });
  const make = (extra: Partial<ServerOptions> = {}) =>
    createServer({ provider: provider(), data, maxPollIntervalMs: 10, ...options, ...extra });
  let server = await make();
  const adminKey = server.adminKey ?? "";
  const service: TestService = {
    get server() {
      return server;
    },
    emulator,
    data,
    adminKey,
    async call(method, url, { key, body, headers = {} } = {}) {
      const response = await server.app.inject({
        method: method as "GET",
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      const type = String(response.headers["content-type"] ?? "");
      return {
        status: response.statusCode,
        body: type.includes("json") ? response.json() : response.body,
        headers: response.headers,
        raw: response.rawPayload,
      };
    },
    async until(url, key, done) {
      for (let i = 0; i < 2000; i++) {
        const { status, body } = await service.call("GET", url, { key });
        if (done(body, status)) return body;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`gave up waiting on ${url}`);
    },
    async restart(extra = {}) {
      await server.close();
      server = await make(extra);
      return server;
    },
    async close() {
      await server.close();
      await emulator.stop();
      if (!options.data) await rm(data, { recursive: true, force: true });
    },
  };
  return service;
}

/** Creates a user through the admin route and returns its id and key. */
export async function newUser(
  service: TestService,
  id: string,
  credits?: number,
): Promise<{ id: string; key: string }> {
  const { status, body } = await service.call("POST", "/api/v1/users", {
    key: service.adminKey,
    body: { email: `${id}@example.com`, name: id, id, ...(credits !== undefined ? { credits } : {}) },
  });
  if (status !== 201) throw new Error(`user ${id}: ${status} ${JSON.stringify(body)}`);
  return { id, key: body.data.api_key };
}
