// The load generator of the serve benchmark, in a process of its own so that its work never delays the
// server's answers or inflates their latency: `clients` keep-alive connections (one undici Pool) create
// `tasks` image tasks in all, each client sending its next request as soon as its last answer arrived.
// Input: one JSON argument {url, key, clients, tasks, prefix}. Output: one JSON line on stdout,
// {latencies (ms, 201 answers only), accepted: [[task_id, prompt]…], refused, seconds}.
import { performance } from "node:perf_hooks";
import { Pool } from "undici";

const { url, key, clients, tasks, prefix } = JSON.parse(process.argv[2] ?? "{}");
const pool = new Pool(url, { connections: clients, pipelining: 1, keepAliveTimeout: 30_000 });
const latencies = [];
const accepted = [];
let refused = 0;
let next = 0;

async function client(index) {
  while (next < tasks) {
    const prompt = `${prefix} ${next++}`;
    const body = JSON.stringify({ prompt, user_id: `client_${index}` });
    const started = performance.now();
    const response = await pool.request({
      method: "POST",
      path: "/api/v1/ai/image/task",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
    const text = await response.body.text();
    const elapsed = performance.now() - started;
    const taskId = response.statusCode === 201 ? JSON.parse(text).data?.task_id : undefined;
    if (taskId) {
      latencies.push(elapsed);
      accepted.push([taskId, prompt]);
    } else {
      refused++;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
const seconds = (performance.now() - started) / 1000;
await pool.close();
process.stdout.write(`${JSON.stringify({ latencies, accepted, refused, seconds })}\n`);
