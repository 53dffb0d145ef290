/**
 * `createServer`: the task service of `jimeng serve` (fastify) over the embedded store and worker pool. The
 * first start creates the admin user and returns its API key once (`adminKey`); later starts find it hashed
 * in the store. `close()` stops accepting requests, drains the workers and closes the database.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import { RequestRate, withRateLimit } from "../batch/rate.js";
import { ValidationError } from "../errors.js";
import type { Provider } from "../providers/types.js";
import type { RedisTarget } from "../queue/bullmq.js";
import type { TaskQueue } from "../queue/seam.js";
import { Store } from "../queue/store.js";
import { WorkerPool } from "../queue/worker-pool.js";
import { Jimeng } from "../tasks/client.js";
import { HttpError } from "./http-error.js";
import { bearerKey, hashApiKey } from "./keys.js";
import { Metrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { type QuotaOptions, Quotas } from "./quotas.js";
import { registerPageRoutes } from "./routes/page.js";
import { registerTaskRoutes } from "./routes/tasks.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerWebAppRoutes } from "./routes/webapp.js";
import {
  type Caller,
  declareRoute,
  type RouteCall,
  type RouteDeclaration,
  type RouteRegistry,
} from "./routing.js";
import { DEFAULT_CREDITS, Service } from "./service.js";

export interface ServerOptions {
  /** The provider the workers submit to (`createProvider(...)`); closed by `close()`. */
  provider: Provider;
  /** Data folder: `jimeng.db` and `files/` (default `./jimeng-data`); ":memory:" keeps nothing (tests). */
  data?: string;
  /** Tasks the workers run at once (default 4). */
  concurrency?: number;
  /** No API keys: every request acts as the admin. Only allowed on a loopback address. */
  insecureNoAuth?: boolean;
  /** Credits of a new user (default 10). */
  defaultCredits?: number;
  quotas?: QuotaOptions;
  /** Most submits + polls per second to the provider account, across all workers. */
  upstreamQps?: number;
  /** Submit again a task caught mid-submit by a crash (default true, as `jimeng batch --resume`). */
  resubmitUncertain?: boolean;
  /** Longest pause between two polls of one task, in ms (the emulator's tasks take milliseconds). */
  maxPollIntervalMs?: number;
  /** Deadline of each task's wait, in ms (default the SDK's: 10 min images, 30 min video). */
  taskTimeoutMs?: number;
  /** Waits and downloads tried again after a failure safe to repeat, per task (default 2; in-process pool). */
  retries?: number;
  /** How long `POST /api/image-to-image` waits for its result before answering 202 (default 5 min). */
  syncTimeoutMs?: number;
  /** How long `close()` lets running tasks finish (default 30 s). */
  drainTimeoutMs?: number;
  /** The service's public base URL for output links (default: from each request's Host header). */
  publicUrl?: string;
  /**
   * Run tasks on `jimeng worker` processes through a shared BullMQ queue in Redis instead of in this process:
   * the node then keeps no state of its own beyond the data folder, which every node and worker shares.
   */
  redis?: RedisTarget;
  /** With `redis`: how often unfinished tasks are checked against their jobs (default 10 s). */
  reconcileMs?: number;
  /** fastify's logger option: `true` for JSON lines on stdout, or pino options. Default off. */
  logger?: boolean | Record<string, unknown>;
}

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  pool: TaskQueue;
  /** The admin API key, only on the start that created it (print it once; it is stored hashed). */
  adminKey?: string;
  /** Starts listening; resolves with the base URL. Refuses a non-loopback host with `insecureNoAuth`. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /** Stops accepting requests, drains the workers, closes the store and the provider. */
  close(): Promise<void>;
}

/** What route modules get. */
export interface ServerContext {
  service: Service;
  options: { syncTimeoutMs: number };
  route<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
    declaration: RouteDeclaration<B, Q>,
    handler: (call: RouteCall<B, Q>) => unknown,
  ): void;
  baseUrl(request: FastifyRequest): string;
  /** Open event streams, ended by `close()`. */
  openStreams: Set<() => void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

async function loadFastify() {
  try {
    const [{ default: fastify }, { default: multipart }] = await Promise.all([
      import("fastify"),
      import("@fastify/multipart"),
    ]);
    return { fastify, multipart };
  } catch (error) {
    throw new Error(
      "jimeng serve needs fastify 5 and @fastify/multipart: npm install fastify@5 @fastify/multipart better-sqlite3@12",
      { cause: error },
    );
  }
}

/** `wrapped` with the upstream cancel of `original`, when it has one (wrappers keep the calls they know). */
function withCancel(wrapped: Provider, original: Provider): Provider {
  if (!original.cancel) return wrapped;
  return { ...wrapped, cancel: (ref, options) => original.cancel?.(ref, options) ?? Promise.resolve() };
}

/** Counts the provider calls for `/metrics`. */
function counted(provider: Provider, metrics: Metrics): Provider {
  return {
    name: provider.name,
    models: provider.models,
    ...(provider.endpoint !== undefined ? { endpoint: provider.endpoint } : {}),
    resolveModel: (name, kind) => provider.resolveModel(name, kind),
    submit: (request, options) => {
      metrics.upstream.submit = (metrics.upstream.submit ?? 0) + 1;
      return provider.submit(request, options);
    },
    get: (ref, options) => {
      metrics.upstream.poll = (metrics.upstream.poll ?? 0) + 1;
      return provider.get(ref, options);
    },
    close: () => provider.close(),
  };
}

export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const { fastify, multipart } = await loadFastify();
  const store = new Store({ dir: options.data ?? "./jimeng-data" });
  const metrics = new Metrics();
  let provider = counted(options.provider, metrics);
  if (options.upstreamQps !== undefined) {
    provider = withRateLimit(provider, new RequestRate({ perSecond: options.upstreamQps }));
  }
  provider = withCancel(provider, options.provider);
  const jimeng = new Jimeng({
    provider,
    ...(options.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: options.maxPollIntervalMs } : {}),
  });
  const app = fastify({
    logger: options.logger ?? false,
    bodyLimit: 25 * 1024 * 1024,
    // Request ids in every log line; the Authorization header is never logged (fastify logs no headers).
    requestIdHeader: "x-request-id",
  });
  let pool: TaskQueue;
  try {
    pool = options.redis
      ? new (await import("../queue/redis-queue.js")).RedisTaskQueue({
          store,
          target: options.redis,
          refundOn: new Set(["i2i"]),
          ...(options.resubmitUncertain !== undefined
            ? { resubmitUncertain: options.resubmitUncertain }
            : {}),
          ...(options.reconcileMs !== undefined ? { reconcileMs: options.reconcileMs } : {}),
          log: app.log,
        })
      : new WorkerPool({
          store,
          jimeng,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.resubmitUncertain !== undefined
            ? { resubmitUncertain: options.resubmitUncertain }
            : {}),
          ...(options.taskTimeoutMs !== undefined ? { timeout: options.taskTimeoutMs } : {}),
          ...(options.retries !== undefined ? { retries: options.retries } : {}),
          refundOn: new Set(["i2i"]),
          log: app.log,
        });
  } catch (error) {
    store.close();
    throw error;
  }
  const quotas = new Quotas(options.quotas ?? {}, store);
  const service = new Service(store, pool, provider, quotas, options.defaultCredits ?? DEFAULT_CREDITS);

  let adminKey: string | undefined;
  if (!store.hasAdmin()) {
    adminKey = service.createUser({ id: "admin", name: "admin", admin: true, credits: 0 }).apiKey;
  }
  const admin = store.getUser("admin");

  const authenticate = (request: FastifyRequest): Caller => {
    if (options.insecureNoAuth && admin) return { user: admin, keyHash: "open" };
    const key = bearerKey(request.headers.authorization);
    if (!key) throw new HttpError(401, "unauthorized", "send Authorization: Bearer <api key>");
    const keyHash = hashApiKey(key);
    const user = service.userForKey(keyHash);
    if (!user) throw new HttpError(401, "unauthorized", "this API key is not known to the service");
    quotas.checkRate(keyHash, user);
    return { user, keyHash };
  };

  await app.register(multipart, { limits: { fileSize: 10 * 1024 * 1024, files: 1 } });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) {
      reply.headers(error.headers);
      return reply.code(error.status).send(error.body());
    }
    if (error instanceof ValidationError) {
      const message = error.issues.map((issue) =>
        issue.path ? `${issue.path}: ${issue.message}` : issue.message,
      );
      return reply
        .code(400)
        .send({ error: "invalid request", message: message.join("; "), issues: error.issues });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: "invalid request", message: (error as Error).message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal error", message: "the service failed; see its log" });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: "not found", message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });
  app.addHook("onResponse", (request, reply, done) => {
    metrics.observe(
      request.method,
      request.routeOptions.url ?? "unknown",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  const registry: RouteRegistry = [];
  const openStreams = new Set<() => void>();
  const context: ServerContext = {
    service,
    options: { syncTimeoutMs: options.syncTimeoutMs ?? 5 * 60_000 },
    route: (declaration, handler) => declareRoute(app, registry, authenticate, declaration, handler),
    baseUrl: (request) => options.publicUrl?.replace(/\/+$/, "") ?? `${request.protocol}://${request.host}`,
    openStreams,
  };

  context.route(
    { method: "GET", url: "/health", summary: "liveness (no key needed)", tag: "ops", access: "public" },
    () => ({ status: "ok" }),
  );
  context.route(
    { method: "GET", url: "/ready", summary: "the store and the queue answer", tag: "ops" },
    () => ({
      status: store.ping() ? "ready" : "unavailable",
      queue: { depth: service.pool.depth, in_flight: service.pool.inFlight },
    }),
  );
  context.route(
    { method: "GET", url: "/metrics", summary: "Prometheus metrics", tag: "ops", access: "admin" },
    (call) => {
      call.reply.header("content-type", "text/plain; version=0.0.4");
      return metrics.render({
        tasks: store.countByStatus(),
        queueDepth: service.pool.depth,
        inFlight: service.pool.inFlight,
      });
    },
  );
  registerTaskRoutes(context);
  registerUserRoutes(context);
  registerWebAppRoutes(context);
  registerPageRoutes(context);
  const document = openApiDocument(registry);
  context.route(
    { method: "GET", url: "/openapi.json", summary: "this document (OpenAPI 3.1)", tag: "ops" },
    () => document,
  );

  try {
    await pool.start();
  } catch (error) {
    await pool.drain(0);
    store.close();
    throw error;
  }
  const workers = pool;
  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    pool: workers,
    ...(adminKey ? { adminKey } : {}),
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? "127.0.0.1";
      if (options.insecureNoAuth && !isLoopback(host)) {
        throw new ValidationError([
          {
            path: "host",
            message: `--insecure-no-auth only binds a loopback address (127.0.0.1, ::1), not ${host}`,
          },
        ]);
      }
      return app.listen({ host, port: listenOptions.port ?? 8080 });
    },
    close() {
      closing ??= (async () => {
        for (const stop of openStreams) stop();
        // Requests in flight get a moment to finish; a client that stopped reading does not hold the stop.
        const grace = setTimeout(() => app.server.closeAllConnections(), 2000);
        grace.unref();
        await app.close();
        clearTimeout(grace);
        await workers.drain(options.drainTimeoutMs ?? 30_000);
        store.close();
        await provider.close();
      })();
      return closing;
    },
  };
}
