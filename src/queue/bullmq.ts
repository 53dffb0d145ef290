/**
 * The Redis connection of `--redis` and the lazy load of BullMQ: only `serve --redis`, `worker` and
 * `batch --redis` load it (an optional peer dependency, like fastify for `serve`).
 */
import type { Redis } from "ioredis";
import { ValidationError } from "../errors.js";

export type BullMq = typeof import("bullmq");

/** The queue of serve tasks; batch jobs use it too, with ids of their own. */
export const QUEUE_NAME = "jimeng";
/** The default key prefix (BullMQ's own is "bull"): every key this project writes starts with it. */
export const DEFAULT_PREFIX = "jimeng";

let loaded: Promise<BullMq> | undefined;

export function loadBullMq(): Promise<BullMq> {
  loaded ??= import("bullmq").catch((error: unknown) => {
    loaded = undefined;
    throw new Error("--redis needs bullmq 6 and ioredis: npm install bullmq@6 ioredis", { cause: error });
  });
  return loaded;
}

/** A plain ioredis client (the shared request counter of `--upstream-qps`). */
export async function openRedis(target: RedisTarget): Promise<Redis> {
  await loadBullMq();
  const { Redis: Client } = await import("ioredis");
  return new Client(target.connection);
}

/** The ioredis options a URL gives; both BullMQ and ioredis take them as they are. */
export interface RedisConnection {
  host: string;
  port: number;
  maxRetriesPerRequest: null;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
}

export interface RedisTarget {
  /** ioredis options parsed from the URL (the password stays out of every message). */
  connection: RedisConnection;
  /** Key prefix; several deployments (or tests) can share one Redis with different prefixes. */
  prefix: string;
  /** The URL without its password, for messages. */
  display: string;
  /** The password, to register with the output scrubber. */
  secret?: string;
}

/** Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS); `flag` names the field. */
export function redisTarget(url: string, options: { prefix?: string; flag?: string } = {}): RedisTarget {
  const flag = options.flag ?? "--redis";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError([
      { path: flag, message: `"${redactUrl(url)}" is not a URL like redis://host:6379` },
    ]);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    // `host:6379` parses as a URL whose scheme is the host name.
    const message = url.includes("://")
      ? `use a redis:// or rediss:// URL, not ${parsed.protocol.replace(/:$/, "")}://`
      : `"${redactUrl(url)}" has no scheme: write redis://${redactUrl(url)}`;
    throw new ValidationError([{ path: flag, message }]);
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) {
    throw new ValidationError([{ path: flag, message: `the database "/${db}" must be a number, e.g. /0` }]);
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) {
    throw new ValidationError([
      { path: "--redis-prefix", message: "use 1–64 letters, digits, dots, dashes or underscores" },
    ]);
  }
  const password = decodeURIComponent(parsed.password);
  const connection: RedisConnection = {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    // BullMQ's workers block on Redis: ioredis must wait (not fail) while Redis restarts.
    maxRetriesPerRequest: null,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(password ? { password } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
  return { connection, prefix, display: redactUrl(url), ...(password ? { secret: password } : {}) };
}

/** The URL with any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, "$1***@");
}

/** Waits for a BullMQ connection, failing with a clear message when Redis does not answer in `ms`. */
export async function whenReady(ready: Promise<unknown>, target: RedisTarget, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis at ${target.display} did not answer within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
