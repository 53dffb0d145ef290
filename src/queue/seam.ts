/**
 * The one queue seam of `jimeng serve`: what the routes and the service ask of "the workers", whoever runs
 * them. Two implementations: the embedded in-process pool (worker-pool.ts) and the Redis one (redis-queue.ts),
 * where `jimeng worker` processes on any machine run the tasks from a shared BullMQ queue.
 */
import type { EventEmitter } from "node:events";
import type { StoredTask } from "./store.js";

export interface TaskQueue extends EventEmitter<{ change: [StoredTask] }> {
  /** Picks up what an earlier process left, then starts working (or listening). */
  start(): void | Promise<void>;
  /** Queues a stored `pending` task; queueing the same task twice runs it once. */
  enqueue(id: string): void;
  /** Takes a queued task out of the queue (cancel); false when a worker already started it. */
  dequeue(id: string): Promise<boolean>;
  /** Tasks waiting for a worker. */
  readonly depth: number;
  /** Tasks a worker is running. */
  readonly inFlight: number;
  /** What it counted so far (submits, recovered polls…), for logs and tests. */
  readonly counters: Readonly<Record<string, number>>;
  /** Stops taking tasks; running ones get `deadlineMs` to finish, then stay to be polled by the next start. */
  drain(deadlineMs?: number): Promise<void>;
}
