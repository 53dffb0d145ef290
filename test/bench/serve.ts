/**
 * `jimeng serve` under load (the built CLI, `npm run build` first):
 *
 * 1. `clients` concurrent HTTP clients create `tasks` image tasks against `jimeng serve --emulator`: latency
 *    of `POST /api/v1/ai/image/task` (p50, p99), throughput and the server's CPU time per task, beside a
 *    minimal node:http server that only keeps tasks in memory (the floor); then every accepted task must end
 *    `completed`, none submitted twice upstream. The load generator (load-client.mjs) runs in a process of
 *    its own with keep-alive connections, so its work is not counted as the server's latency;
 * 2. the same load while the server is killed (-9) `kills` times and restarted on the same data folder, the
 *    emulator running in this process so it outlives the server: every accepted task ends `completed`;
 *    duplicate upstream submits are counted (only a task caught mid-submit by a kill can be one).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../../src/emulator/server.js";
import { Store } from "../../src/queue/store.js";
import { emulatorEnv } from "../helpers/cli.js";
import {
  createTasksUnderLoad,
  type LoadResult,
  percentile,
  type ServeProcess,
  startServe,
  taskStatuses,
} from "../server/serve-process.js";
import type { Bench, BenchFigure } from "./types.js";

const FLOOR_SERVER = `
const http = require("node:http");
const tasks = new Map();
let n = 0;
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const id = "task_" + ++n;
    tasks.set(id, JSON.parse(body));
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ success: true, data: { task_id: id, status: "pending" } }));
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ url: "http://127.0.0.1:" + server.address().port })));
`;

function baseEnv(configDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(JIMENG_|VOLC_)/.test(key)) env[key] = value;
  }
  return { ...env, JIMENG_CONFIG_DIR: configDir, JIMENG_POLL_INTERVAL: "25ms", NO_COLOR: "1" };
}

const LOAD_CLIENT = fileURLToPath(new URL("./load-client.mjs", import.meta.url));

interface ClientLoad {
  latencies: number[];
  accepted: [string, string][];
  refused: number;
  seconds: number;
  /** CPU time (user + system) the server's process spent during the load, per accepted task; NaN off Linux. */
  cpuMsPerTask: number;
}

/** CPU time of a process so far, in ms (Linux /proc; NaN elsewhere). */
function cpuMs(child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Runs load-client.mjs against `url` in its own process, measuring `server`'s CPU time meanwhile. */
async function clientLoad(
  server: ChildProcess,
  target: { url: string; key: string },
  clients: number,
  tasks: number,
  prefix: string,
): Promise<ClientLoad> {
  const before = cpuMs(server);
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [LOAD_CLIENT, JSON.stringify({ ...target, clients, tasks, prefix })],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
  const load = JSON.parse(output) as Omit<ClientLoad, "cpuMsPerTask">;
  return { ...load, cpuMsPerTask: (cpuMs(server) - before) / Math.max(1, load.accepted.length) };
}

async function floorLoad(clients: number, tasks: number): Promise<ClientLoad> {
  const child = spawn(process.execPath, ["-e", FLOOR_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise<string>((resolve) => {
      child.stdout
        .setEncoding("utf8")
        .once("data", (line: string) => resolve((JSON.parse(line) as { url: string }).url));
    });
    return await clientLoad(child, { url, key: "none" }, clients, tasks, "floor");
  } finally {
    child.kill("SIGKILL");
  }
}

async function stop(serve: ServeProcess): Promise<number | null> {
  serve.run.child.kill("SIGTERM");
  return (await serve.run.exited).code;
}

/** Waits until every accepted task ended; returns their statuses. */
async function settle(
  url: string,
  key: string,
  load: LoadResult,
  timeoutMs: number,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    const text = await response.text();
    const unfinished = ["pending", "submitting", "processing"]
      .map((state) => Number(new RegExp(`jimeng_tasks\\{state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    if (unfinished === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return taskStatuses(url, key, load.accepted.keys());
}

function duplicates(tasksByPrompt: Record<string, number>, prefix: string): number {
  return Object.entries(tasksByPrompt)
    .filter(([prompt]) => prompt.startsWith(prefix))
    .reduce((sum, [, count]) => sum + Math.max(0, count - 1), 0);
}

function completedCount(statuses: Map<string, string>): number {
  return [...statuses.values()].filter((status) => status === "completed").length;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function loadRun(clients: number, tasks: number, dir: string): Promise<BenchFigure[]> {
  const env = baseEnv(path.join(dir, "config"));
  const serve = await startServe(
    ["--emulator", "--emulator-duration", "50ms", "--data", path.join(dir, "load"), "-c", "32"],
    { env, cwd: dir },
  );
  const key = serve.adminKey ?? "";
  let load: ClientLoad;
  let statuses: Map<string, string>;
  let dupes: number;
  try {
    load = await clientLoad(serve.run.child, { url: serve.url, key }, clients, tasks, "load");
    const accepted = { accepted: new Map(load.accepted), latencies: [], retried: 0, refused: 0 };
    statuses = await settle(serve.url, key, accepted, 300_000);
    const counters = (await (await fetch(`${serve.emulator}/__emulator/counters`)).json()) as {
      tasksByPrompt: Record<string, number>;
    };
    dupes = duplicates(counters.tasksByPrompt, "load");
  } finally {
    await stop(serve);
  }
  const floor = await floorLoad(clients, tasks);
  const label = `${clients} clients × ${tasks} tasks`;
  const latency = (p: number): BenchFigure => {
    const value = percentile(load.latencies, p);
    const baseline = percentile(floor.latencies, p);
    return {
      suite: "serve",
      name: `POST /api/v1/ai/image/task p${p} (${label})`,
      value: round(value),
      unit: "ms",
      baseline: { name: "node:http, in memory", value: round(baseline) },
      ratio: round(value / baseline, 2),
      ...(p === 99 ? { target: "≤ 50 ms", met: value <= 50 } : {}),
    };
  };
  const rate = (run: ClientLoad) => run.accepted.length / run.seconds;
  const completed = completedCount(statuses);
  const lost = load.accepted.length - completed;
  return [
    latency(50),
    latency(99),
    {
      suite: "serve",
      name: `task creations per second (${label})`,
      value: round(rate(load), 0),
      unit: "req/s",
      baseline: { name: "node:http, in memory", value: round(rate(floor), 0) },
      ratio: round(rate(load) / rate(floor), 2),
    },
    {
      suite: "serve",
      name: "server CPU time per task creation (workers and emulator included)",
      value: round(load.cpuMsPerTask, 2),
      unit: "ms",
      baseline: { name: "node:http, in memory", value: round(floor.cpuMsPerTask, 2) },
      ratio: round(load.cpuMsPerTask / floor.cpuMsPerTask, 1),
    },
    {
      suite: "serve",
      name: `tasks lost (${label}, serve --emulator)`,
      value: lost,
      unit: "tasks",
      target: "0 lost, 0 duplicates",
      met: lost === 0 && dupes === 0,
      note: `${load.accepted.length} accepted, ${completed} completed, ${dupes} duplicate upstream submits`,
    },
  ];
}

async function killRun(clients: number, tasks: number, kills: number, dir: string): Promise<BenchFigure> {
  const emulator = await startEmulator({ durations: { image: 50 } });
  const env = { ...emulatorEnv(emulator, path.join(dir, "config-kill")), JIMENG_POLL_INTERVAL: "25ms" };
  const data = path.join(dir, "kill");
  const args = ["--data", data, "-c", "16"];
  let serve = await startServe(args, { env, cwd: dir });
  const key = serve.adminKey ?? "";
  const load: LoadResult = { accepted: new Map(), latencies: [], retried: 0, refused: 0 };
  let statuses: Map<string, string>;
  let killed = 0;
  try {
    const running = createTasksUnderLoad({
      target: () => ({ url: serve.url, key }),
      clients,
      tasks,
      prefix: "kill",
      result: load,
    });
    let done = false;
    void running.finally(() => {
      done = true;
    });
    const step = Math.max(1, Math.floor(tasks / (kills + 1)));
    while (killed < kills && !done) {
      if (load.accepted.size < step * (killed + 1)) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      serve.run.child.kill("SIGKILL");
      await serve.run.exited;
      killed++;
      serve = await startServe(args, { env, cwd: dir });
    }
    await running;
    statuses = await settle(serve.url, key, load, 300_000);
  } finally {
    await stop(serve);
    await emulator.stop();
  }
  const store = new Store({ dir: data });
  const resubmitted = (
    store.db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE submits > 1").get() as { n: number }
  ).n;
  store.close();
  const dupes = duplicates(emulator.counters.tasksByPrompt, "kill");
  const completed = completedCount(statuses);
  return {
    suite: "serve",
    name: `kill -9 × ${killed} during ${tasks} task creations, restart each time`,
    value: completed,
    unit: `of ${load.accepted.size} accepted tasks completed`,
    target: "all completed, none submitted twice",
    met: completed === load.accepted.size && dupes === 0,
    note: `${dupes} duplicate upstream submits (${resubmitted} tasks caught mid-submit and resubmitted), ${load.retried} requests retried while down`,
  };
}

export const run: Bench = async ({ quick }) => {
  const dir = await mkdtemp(path.join(tmpdir(), "jimeng-bench-serve-"));
  try {
    const clients = quick ? 10 : 200;
    const tasks = quick ? 50 : 2000;
    const figures = await loadRun(clients, tasks, dir);
    figures.push(await killRun(quick ? 10 : 200, quick ? 40 : 2000, quick ? 2 : 10, dir));
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
