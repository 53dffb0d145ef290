/**
 * The Redis side of the queue seam for `jimeng serve --redis`: the API node adds each stored task as a BullMQ
 * job (deterministic id: adding it twice adds one job) and copies what `jimeng worker` processes report back
 * into its store. It runs no task itself, so any number of API nodes can share one data folder and one Redis.
 *
 * What the store learns comes from the queue's events, and from a reconcile of every unfinished task at start
 * and every `reconcileMs` (events sent while no API node listened are not lost: the job keeps its state).
 */
import { EventEmitter } from "node:events";
import type { Job, Queue, QueueEvents } from "bullmq";
import { loadBullMq, QUEUE_NAME, type RedisTarget, whenReady } from "./bullmq.js";
import {
  jobIdFor,
  type QueueJobData,
  type QueueJobProgress,
  type QueueJobResult,
  taskIdOf,
} from "./job-data.js";
import { describe, failTask } from "./outcome.js";
import { recoveryAction } from "./recovery.js";
import type { TaskQueue } from "./seam.js";
import { FINAL_STATUSES, type Store, type StoredTask } from "./store.js";
import { taskFolder } from "./worker-pool.js";

export interface RedisTaskQueueOptions {
  store: Store;
  target: RedisTarget;
  /** Origins whose credits are given back when the task fails (seed 003: image-to-image). */
  refundOn?: ReadonlySet<StoredTask["origin"]>;
  /** Submit again tasks caught mid-submit when their job was lost with Redis (default true). */
  resubmitUncertain?: boolean;
  /** How often every unfinished task is checked against its job (default 10 s). */
  reconcileMs?: number;
  log?: { warn(object: object, message: string): void };
}

/** How long finished jobs stay in Redis (their state answers a late reconcile and blocks a second add). */
const KEEP_FINISHED_S = 7 * 24 * 3600;

export class RedisTaskQueue extends EventEmitter<{ change: [StoredTask] }> implements TaskQueue {
  readonly counters = { added: 0, completed: 0, failed: 0 };
  private queue: Queue<QueueJobData, QueueJobResult> | undefined;
  private events: QueueEvents | undefined;
  private timer: NodeJS.Timeout | undefined;
  private counts = { depth: 0, inFlight: 0 };
  private readonly adding = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: RedisTaskQueueOptions) {
    super();
  }

  get depth(): number {
    return this.counts.depth;
  }

  get inFlight(): number {
    return this.counts.inFlight;
  }

  async start(): Promise<void> {
    const bull = await loadBullMq();
    const { connection, prefix } = this.options.target;
    this.queue = new bull.Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, { connection, prefix });
    this.events = new bull.QueueEvents(QUEUE_NAME, { connection, prefix });
    this.queue.on("error", (error) => this.warn("queue connection", error));
    this.events.on("error", (error) => this.warn("queue events connection", error));
    this.events.on("progress", ({ jobId, data }) => this.onProgress(jobId, data));
    this.events.on("completed", ({ jobId }) => this.refresh(jobId));
    this.events.on("failed", ({ jobId }) => this.refresh(jobId));
    await whenReady(
      Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]),
      this.options.target,
    );
    await this.reconcile();
    this.timer = setInterval(() => {
      this.track(this.reconcile());
    }, this.options.reconcileMs ?? 10_000);
    this.timer.unref();
  }

  enqueue(id: string): void {
    this.track(this.sync(id));
  }

  async dequeue(id: string): Promise<boolean> {
    const job = await this.queue?.getJob(jobIdFor(id));
    if (!job) return true;
    const state = await job.getState();
    if (state !== "waiting" && state !== "delayed" && state !== "prioritized") return false;
    try {
      await job.remove();
      return true;
    } catch {
      // A worker took it between the two calls (its lock refuses the removal).
      return false;
    }
  }

  async drain(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.adding]);
    await this.events?.close();
    await this.queue?.close();
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.warn("queue", error))
      .finally(() => this.adding.delete(tracked));
    this.adding.add(tracked);
  }

  private warn(what: string, error: unknown): void {
    if (!this.closed) this.options.log?.warn({ error: describe(error) }, `${what}: ${describe(error)}`);
  }

  /** Every unfinished task against its job; then the queue's counts for /ready and /metrics. */
  private async reconcile(): Promise<void> {
    for (const task of this.options.store.unfinishedTasks()) {
      if (this.closed) return;
      await this.sync(task.id);
    }
    const queue = this.queue;
    if (!queue || this.closed) return;
    const counts = await queue.getJobCounts("waiting", "delayed", "prioritized", "active");
    this.counts = {
      depth: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      inFlight: counts.active ?? 0,
    };
  }

  /**
   * Brings one task and its job together: adds the job of a pending task (once), copies a finished job's
   * outcome into the store, and puts back a job Redis lost (polling its recorded upstream id).
   */
  private async sync(id: string): Promise<void> {
    const queue = this.queue;
    const task = this.options.store.getTask(id);
    if (!queue || !task || FINAL_STATUSES.includes(task.status)) return;
    const job = await queue.getJob(jobIdFor(id));
    if (job) {
      const state = await job.getState();
      const finished = state === "completed" || state === "failed";
      // A job that finished before the task was put back (a retry) belongs to the previous run.
      if (finished && task.status === "pending" && (job.finishedOn ?? 0) < task.updatedAt) {
        await job.remove();
      } else {
        this.apply(job, state);
        return;
      }
    }
    await this.add(task);
  }

  private async add(task: StoredTask): Promise<void> {
    const data: QueueJobData = {
      taskId: task.id,
      request: task.request,
      folder: taskFolder(task.id),
      submits: task.submits,
      ...(task.ref ? { ref: task.ref } : {}),
    };
    if (task.status === "submitting" && !task.ref) {
      // Redis lost the job of a task caught mid-submit: the same rule as a restarted embedded service.
      const action = recoveryAction(task, this.options.resubmitUncertain ?? true);
      if (action === "skip") {
        this.fail(task.id, {
          code: "UNCERTAIN_SUBMIT",
          message:
            "the queue lost this task while it was being submitted; it may or may not exist upstream, so it was not submitted again",
        });
        return;
      }
      data.submitting = true;
    }
    this.counters.added++;
    const job = await this.queue?.add("task", data, {
      jobId: jobIdFor(task.id),
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
    // A cancel that came while the job was being added found no job to remove: take it out now.
    if (job && this.options.store.getTask(task.id)?.status === "cancelled") {
      await job.remove().catch(() => undefined);
    }
  }

  private onProgress(jobId: string, data: unknown): void {
    const id = taskIdOf(jobId);
    if (!id || typeof data !== "object" || data === null) return;
    const progress = data as QueueJobProgress;
    const { store } = this.options;
    let changed = false;
    if (progress.stage === "submitting") {
      changed = store.updateTask(id, ["pending"], { status: "submitting", progress: 10, addSubmit: true });
    } else if (progress.stage === "processing") {
      changed = store.updateTask(id, ["pending", "submitting", "processing"], {
        status: "processing",
        progress: progress.progress,
        ref: progress.ref,
      });
    }
    if (changed) this.changed(id);
  }

  private refresh(jobId: string): void {
    const id = taskIdOf(jobId);
    if (id) this.track(this.sync(id));
  }

  private apply(job: Job<QueueJobData, QueueJobResult>, state: string): void {
    const id = job.data.taskId;
    const { store } = this.options;
    if (state === "completed" && job.returnvalue) {
      const { ref, outputs } = job.returnvalue;
      if (
        store.updateTask(id, ["pending", "submitting", "processing"], {
          status: "completed",
          progress: 100,
          ref,
          outputs,
          finishedAt: job.finishedOn ?? Date.now(),
        })
      ) {
        this.counters.completed++;
        this.changed(id);
      }
      return;
    }
    if (state === "failed") {
      this.fail(id, job.data.error ?? { code: "INTERNAL", message: job.failedReason || "the worker failed" });
      return;
    }
    if (
      job.data.ref &&
      store.updateTask(id, ["pending", "submitting"], {
        status: "processing",
        progress: 30,
        ref: job.data.ref,
      })
    ) {
      this.changed(id);
    }
  }

  private fail(id: string, error: NonNullable<QueueJobData["error"]>): void {
    if (
      failTask(this.options.store, id, ["pending", "submitting", "processing"], error, this.options.refundOn)
    ) {
      this.counters.failed++;
      this.changed(id);
    }
  }

  private changed(id: string): void {
    const task = this.options.store.getTask(id);
    if (task) this.emit("change", task);
  }
}
