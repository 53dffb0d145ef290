/**
 * The built `jimeng serve` as a child process (`npm run build` first), and an HTTP load of task creations
 * against it: shared by the kill -9 test and the benchmark.
 */
import { performance } from "node:perf_hooks";
import { Agent, fetch } from "undici";
import { type CliRun, runCli } from "../helpers/cli.js";

export interface ServeProcess {
  run: CliRun;
  url: string;
  /** Only on the first start of a data folder. */
  adminKey?: string;
  /** With `--emulator`: the in-process emulator's URL (its counters are at `/__emulator/counters`). */
  emulator?: string;
}

/** Starts `jimeng serve <args>` and resolves once it printed its JSON document (it listens by then). */
export async function startServe(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<ServeProcess> {
  const run = runCli(["--json", "serve", "--port", "0", ...args], options);
  const line = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const end = run.stdout().indexOf("\n");
      if (end >= 0) {
        run.child.stdout?.off("data", check);
        resolve(run.stdout().slice(0, end));
      }
    };
    run.child.stdout?.on("data", check);
    void run.exited.then((exit) => reject(new Error(`jimeng serve exited (${exit.code}): ${exit.stderr}`)));
  });
  const document = JSON.parse(line) as { url: string; adminKey?: string; emulator?: string };
  return {
    run,
    url: document.url,
    ...(document.adminKey ? { adminKey: document.adminKey } : {}),
    ...(document.emulator ? { emulator: document.emulator } : {}),
  };
}

export interface LoadResult {
  /** Task ids answered 201, with their prompt. */
  accepted: Map<string, string>;
  /** Latencies of the 201 answers, ms. */
  latencies: number[];
  /** Requests that got no answer (the server was down) and were tried again. */
  retried: number;
  /** Answers other than 201. */
  refused: number;
}

/**
 * `clients` concurrent clients create `tasks` image tasks in all, each with a unique prompt. A request that
 * gets no answer (connection refused or reset: the server is down) is not accepted and is tried again, with
 * `target()` read again (a restarted server listens elsewhere).
 */
export async function createTasksUnderLoad(options: {
  target: () => { url: string; key: string };
  clients: number;
  tasks: number;
  prefix: string;
  /** Filled while the load runs (to watch it from outside). */
  result?: LoadResult;
}): Promise<LoadResult> {
  const dispatcher = new Agent({ connections: options.clients, keepAliveTimeout: 10_000 });
  const result: LoadResult = options.result ?? { accepted: new Map(), latencies: [], retried: 0, refused: 0 };
  let next = 0;
  const client = async (index: number) => {
    while (next < options.tasks) {
      const n = next++;
      for (let attempt = 1; ; attempt++) {
        // A request cut off by a crash may have been stored without its answer: its retry is a new task, with
        // a prompt of its own, so that the emulator's tasks-per-prompt counts only true duplicate submits.
        const prompt = `${options.prefix} ${n}#${attempt}`;
        const { url, key } = options.target();
        const started = performance.now();
        let response: Awaited<ReturnType<typeof fetch>>;
        try {
          response = await fetch(`${url}/api/v1/ai/image/task`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ prompt, user_id: `client_${index}` }),
            dispatcher,
          });
        } catch {
          result.retried++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        const body = (await response.json().catch(() => ({}))) as { data?: { task_id?: string } };
        if (response.status === 201 && body.data?.task_id) {
          result.latencies.push(performance.now() - started);
          result.accepted.set(body.data.task_id, prompt);
        } else {
          result.refused++;
        }
        break;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  } finally {
    await dispatcher.close();
  }
  return result;
}

/** The status of every task of `ids` (GET /api/v1/tasks/:id), by id. */
export async function taskStatuses(
  url: string,
  key: string,
  ids: Iterable<string>,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (const id of ids) {
    const response = await fetch(`${url}/api/v1/tasks/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await response.json()) as { data?: { status?: string } };
    statuses.set(id, body.data?.status ?? `http ${response.status}`);
  }
  return statuses;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
