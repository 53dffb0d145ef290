/**
 * A real `redis-server` for the queue tests (and benches): started on a free loopback port with no
 * persistence unless asked, killed after. Where Debian's redis-server is missing the tests that need it print
 * one line saying so (`REDIS_MISSING`) and do not run; nothing mocks Redis.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

function findRedisServer(): string | undefined {
  const named = process.env.JIMENG_REDIS_SERVER;
  if (named) return named;
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The redis-server binary, or undefined when the machine has none. */
export const REDIS_SERVER = findRedisServer();

/** Prints why the Redis tests of `file` did not run (once per file), when they do not. */
export function reportRedisMissing(file: string): void {
  if (REDIS_SERVER) return;
  console.log(
    `${file}: Redis tests did not run: no redis-server found; install it (apt-get install -y redis-server) or set JIMENG_REDIS_SERVER`,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1", () => {
      socket.write("PING\r\n");
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** A key prefix of its own, for the code under test. */
  prefix: string;
  /** Stops it (SIGKILL when `hard`: nothing is written on the way out). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and folder (with appendonly, it reloads what it had). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts redis-server on a free loopback port; `appendonly` keeps an AOF in a temp folder (restart tests). */
export async function startRedis(options: { appendonly?: boolean } = {}): Promise<TestRedis> {
  if (!REDIS_SERVER) throw new Error("no redis-server on this machine");
  const binary = REDIS_SERVER;
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "jimeng-redis-"));
  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        options.appendonly ? "yes" : "no",
        "--appendfsync",
        "always",
        "--dir",
        dir,
      ],
      { stdio: "ignore" },
    );
    child = started;
    for (let attempt = 0; attempt < 200; attempt++) {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
      if (await answers(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("redis-server did not answer within 5 s");
  };
  const stop = async (hard = false) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    prefix: `t${randomBytes(4).toString("hex")}`,
    stop,
    restart: launch,
    async close() {
      await stop(true);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
