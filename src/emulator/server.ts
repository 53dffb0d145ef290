import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProviderName } from "../errors.js";
import {
  DEMO_CREDENTIALS,
  EmulatorCoreImpl,
  type EmulatorCoreOptions,
  type EmulatorCounters,
} from "./core.js";
import { defaultRoutes } from "./routes.js";
import type {
  EmulatorCredentials,
  EmulatorOutput,
  EmulatorReply,
  EmulatorRequest,
  RouteHandler,
} from "./types.js";

export interface EmulatorOptions extends EmulatorCoreOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only by default. */
  host?: string;
  /** Extra real-time delay before every answer, in ms. */
  latencyMs?: number;
  /**
   * Holds the answer to every submit that created a task this long (real ms): the task exists, and is paid
   * for, while the client still waits for its id. A kill or Ctrl-C now is the costly case.
   */
  submitDelayMs?: number;
  /** The API halves to serve; all three by default. */
  routes?: RouteHandler[];
}

export interface EmulatorTaskInfo {
  id: string;
  provider: ProviderName;
  model: string;
  prompt: string;
  phase: string;
  outputs: EmulatorOutput[];
}

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:51234 — every API is served on it (Ark under `/api/v3`). */
  url: string;
  credentials: EmulatorCredentials;
  counters: EmulatorCounters;
  /**
   * A poll interval (ms) that suits this emulator's task durations and time scale. Pass it on as
   * `new Jimeng({ provider, maxPollIntervalMs: emulator.pollIntervalMs })` (the CLI: `JIMENG_POLL_INTERVAL`),
   * or clients poll at the real services' pace, seconds apart, for tasks that take milliseconds here.
   */
  pollIntervalMs: number;
  /** Every task with its outputs' sha256, to check downloaded files against. */
  tasks(): EmulatorTaskInfo[];
  resetCounters(): void;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Starts the loopback emulator of the remote APIs (Visual, session servers, Ark). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const core = new EmulatorCoreImpl(options);
  const routes = options.routes ?? defaultRoutes;
  const server = createServer((req, res) => {
    handle(req, res, core, routes, options.latencyMs ?? 0, options.submitDelayMs ?? 0).catch(
      (error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "emulator failure", message: String(error) }));
        } else {
          res.destroy();
        }
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  core.baseUrl = `http://${host}:${port}`;

  return {
    url: core.baseUrl,
    credentials: core.credentials,
    counters: core.counters,
    pollIntervalMs: core.pollIntervalMs(),
    tasks: () => taskInfos(core),
    resetCounters: () => core.resetCounters(),
    stop: async () => {
      core.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { DEMO_CREDENTIALS };

/** Every task with its outputs' sha256 (also served at `/__emulator/tasks` for out-of-process checks). */
function taskInfos(core: EmulatorCoreImpl): EmulatorTaskInfo[] {
  return core.allTasks().map((task) => {
    const phase = core.phase(task);
    return {
      id: task.id,
      provider: task.provider,
      model: task.model,
      prompt: task.prompt,
      phase,
      outputs: phase === "succeeded" ? core.outputs(task) : [],
    };
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  core: EmulatorCoreImpl,
  routes: RouteHandler[],
  latencyMs: number,
  submitDelayMs: number,
): Promise<void> {
  core.counters.requests++;
  const body = await readBody(req);
  if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
  if (body === undefined) {
    reply(res, { status: 413, json: { error: "request body too large" } });
    return;
  }
  const url = new URL(req.url ?? "/", core.baseUrl);

  if (req.method === "GET" && url.pathname.startsWith("/files/")) {
    serveFile(url, res, core);
    return;
  }
  if (req.method === "GET" && url.pathname === "/__emulator/counters") {
    reply(res, { status: 200, json: core.counters });
    return;
  }
  if (req.method === "GET" && url.pathname === "/__emulator/tasks") {
    reply(res, { status: 200, json: { tasks: taskInfos(core) } });
    return;
  }

  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const request: EmulatorRequest = { method: req.method ?? "GET", url, headers, body };
  const tasksBefore = core.counters.tasks;
  for (const route of routes) {
    const answer = await route(request, core);
    if (!answer) continue;
    if (submitDelayMs > 0 && core.counters.tasks > tasksBefore) {
      await new Promise((resolve) => setTimeout(resolve, submitDelayMs));
    }
    return reply(res, answer);
  }
  reply(res, { status: 404, json: { error: "not found", path: url.pathname } });
}

function reply(res: ServerResponse, answer: EmulatorReply): void {
  if ("reset" in answer) {
    res.socket?.destroy();
    return;
  }
  if ("stream" in answer) {
    res.writeHead(answer.status, { "content-type": answer.contentType, ...answer.headers });
    void pipeEvents(res, answer.stream);
    return;
  }
  if ("json" in answer) {
    const text = JSON.stringify(answer.json);
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...answer.headers,
    });
    res.end(text);
    return;
  }
  res.writeHead(answer.status, {
    "content-type": answer.contentType,
    "content-length": Buffer.byteLength(answer.body),
    ...answer.headers,
  });
  res.end(answer.body);
}

/** Writes each event as it is produced; a client that hangs up ends the stream. */
async function pipeEvents(res: ServerResponse, stream: AsyncIterable<string>): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (res.destroyed) return;
      res.write(chunk);
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function serveFile(url: URL, res: ServerResponse, core: EmulatorCoreImpl): void {
  const match = /^\/files\/([^/]+)\/(\d+)\.(png|mp4)$/.exec(url.pathname);
  const found = match ? core.file(match[1] as string, Number(match[2])) : undefined;
  if (!match || !found) {
    reply(res, { status: 404, json: { error: "no such file" } });
    return;
  }
  core.countDownload(found.task.id);
  const bytes = core.outputBytes(found.task, found.output.index);
  const fault = core.decideDownloadFault();
  if (fault === "server-error") {
    reply(res, { status: 503, json: { error: "temporarily unavailable" } });
    return;
  }
  if (fault === "reset") {
    reply(res, { reset: true });
    return;
  }
  res.writeHead(200, { "content-type": found.output.contentType, "content-length": bytes.length });
  if (fault === "truncate") {
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
    return;
  }
  res.end(bytes);
}
