/**
 * The in-process worker pool of `jimeng serve`: takes stored tasks in order, at most `concurrency` at a time,
 * and runs each through the SDK: `submitting` is written before the paid request is sent, the upstream task
 * id as soon as the provider accepts it, then the wait (the SDK's adaptive backoff) moves the progress from
 * 30 to 90, and the outputs are downloaded into `<data>/files/` before the task is `completed`.
 *
 * On start it picks up what a previous process left (see recovery.ts). `drain()` stops taking tasks and lets
 * those in flight finish; past its deadline the waits are abandoned and the tasks stay `processing` with
 * their upstream id, to be polled by the next start.
 */
import { createHash } from "node:crypto";
import { EventEmitter, setMaxListeners } from "node:events";
import path from "node:path";
import { isSafeToRetry } from "../batch/job-runner.js";
import { AbortError, RateLimitError, ValidationError } from "../errors.js";
import { retryDelay } from "../http/retry.js";
import { sleep } from "../http/sleep.js";
import { HttpTransport } from "../http/transport.js";
import { downloadOutputs } from "../media/download.js";
import type { TaskRef, TaskStatus } from "../providers/types.js";
import type { Jimeng } from "../tasks/client.js";
import { describe, failTask, notAccepted, storedError } from "./outcome.js";
import { recoveryAction } from "./recovery.js";
import type { TaskQueue } from "./seam.js";
import type { Store, StoredError, StoredOutput, StoredTask } from "./store.js";

export interface WorkerPoolOptions {
  store: Store;
  jimeng: Jimeng;
  /** Tasks in flight at once (default 4). */
  concurrency?: number;
  /** Submit again tasks caught mid-submit by a crash (default true, as `jimeng batch --resume`). */
  resubmitUncertain?: boolean;
  /** Deadline of each task's wait, in ms (default: the SDK's, 10 min images / 30 min video). */
  timeout?: number;
  /**
   * Waits and downloads that failed in a way safe to repeat (network, 5xx, a request's timeout) are tried
   * again this many times, after a backoff; never the submit (default 2, as `batch` and `worker`).
   */
  retries?: number;
  /** Origins whose credits are given back when the task fails (seed 003: image-to-image). */
  refundOn?: ReadonlySet<StoredTask["origin"]>;
  /** Logs (pino-style `warn(obj, msg)`); never given secrets. */
  log?: { warn(object: object, message: string): void; info(object: object, message: string): void };
  random?: () => number;
}

export interface PoolCounters extends Record<string, number> {
  submits: number;
  submitFailures: number;
  resubmittedUncertain: number;
  recoveredPolls: number;
  /** Waits or downloads tried again after a failure safe to repeat. */
  retried: number;
  completed: number;
  failed: number;
}

/** Emits `change` (StoredTask) after every stored transition. */
export class WorkerPool extends EventEmitter<{ change: [StoredTask] }> implements TaskQueue {
  readonly counters: PoolCounters = {
    submits: 0,
    submitFailures: 0,
    resubmittedUncertain: 0,
    recoveredPolls: 0,
    retried: 0,
    completed: 0,
    failed: 0,
  };
  private readonly store: Store;
  private readonly jimeng: Jimeng;
  private readonly concurrency: number;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly stop = new AbortController();
  private readonly transport = new HttpTransport();
  private readonly timers = new Set<NodeJS.Timeout>();
  private accepting = true;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    this.store = options.store;
    this.jimeng = options.jimeng;
    this.concurrency = options.concurrency ?? 4;
    // Every task in flight listens to the one stop signal: more than Node's default of 10 is expected.
    setMaxListeners(0, this.stop.signal);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ValidationError([
        { path: "concurrency", message: `must be a whole number ≥ 1, got ${this.concurrency}` },
      ]);
    }
  }

  /** Tasks waiting for a slot. */
  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Picks up every unfinished task of an earlier process, then starts working. */
  start(): void {
    const resubmit = this.options.resubmitUncertain ?? true;
    for (const task of this.store.unfinishedTasks()) {
      const action = recoveryAction(task, resubmit);
      if (action === "poll" && task.ref) {
        this.counters.recoveredPolls++;
        this.launch(task.id, () => this.follow(task.id, task.ref as TaskRef));
      } else if (action === "submit" && task.status === "submitting") {
        this.counters.resubmittedUncertain++;
        this.options.log?.warn(
          { taskId: task.id },
          "task was mid-submit when the service stopped; submitting it again (it may be charged twice)",
        );
        this.store.updateTask(task.id, ["submitting"], { status: "pending", progress: 10 });
        this.enqueue(task.id);
      } else if (action === "skip") {
        this.fail(task.id, ["submitting"], {
          code: "UNCERTAIN_SUBMIT",
          message:
            "the service stopped while submitting this task; it may or may not exist upstream, so it was not submitted again",
        });
      } else {
        this.enqueue(task.id);
      }
    }
  }

  /** Queues a stored `pending` task. */
  enqueue(id: string): void {
    if (!this.accepting || this.queued.has(id) || this.running.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  /** Takes a queued task out of the queue (cancel); false when it already started. */
  async dequeue(id: string): Promise<boolean> {
    if (!this.queued.delete(id)) return false;
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
    return true;
  }

  /**
   * Stops taking tasks and waits for those in flight, at most `deadlineMs`; then abandons the waits (their
   * tasks keep their upstream ids and are polled by the next start). Queued tasks stay `pending` in the store.
   */
  async drain(deadlineMs = 30_000): Promise<void> {
    this.accepting = false;
    this.queue.length = 0;
    this.queued.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.running.values()]), deadline]);
    clearTimeout(timer);
    this.stop.abort(new AbortError("the service is stopping"));
    await Promise.allSettled([...this.running.values()]);
    await this.transport.close();
  }

  private pump(): void {
    while (this.accepting && this.running.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      this.queued.delete(id);
      this.launch(id, () => this.run(id));
    }
  }

  private launch(id: string, work: () => Promise<void>): void {
    const job = work()
      .catch((error: unknown) => {
        this.options.log?.warn({ taskId: id, error: describe(error) }, "worker failure");
      })
      .finally(() => {
        this.running.delete(id);
        this.pump();
      });
    this.running.set(id, job);
  }

  private changed(id: string): void {
    const task = this.store.getTask(id);
    if (task) this.emit("change", task);
  }

  private async run(id: string): Promise<void> {
    const task = this.store.getTask(id);
    if (task?.status !== "pending") return;
    // Journal before paying: a crash from here on leaves a `submitting` task, which recovery.ts decides on.
    if (!this.store.updateTask(id, ["pending"], { status: "submitting", progress: 10, addSubmit: true }))
      return;
    this.changed(id);
    let ref: TaskRef;
    try {
      this.counters.submits++;
      ref = await this.jimeng.submit(task.request, {
        signal: this.stop.signal,
        onSubmitted: (accepted) => {
          this.store.updateTask(id, ["submitting"], { status: "processing", progress: 30, ref: accepted });
          this.changed(id);
        },
      });
    } catch (error) {
      this.counters.submitFailures++;
      if (notAccepted(error) && this.accepting) {
        // Never accepted upstream, so never charged: back in the queue after a pause.
        this.store.updateTask(id, ["submitting"], { status: "pending", progress: 0 });
        this.changed(id);
        const attempt = Math.min(task.submits, 6);
        const hint = error instanceof RateLimitError ? error.retryAfterMs : undefined;
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.enqueue(id);
          },
          retryDelay(attempt, hint, this.options.random ?? Math.random),
        );
        this.timers.add(timer);
        return;
      }
      if (error instanceof AbortError && this.stop.signal.aborted) return;
      this.fail(id, ["submitting"], storedError(error));
      return;
    }
    await this.follow(id, ref);
  }

  /**
   * Polls an accepted task to its end and keeps its outputs; a failure safe to repeat polls (and downloads)
   * again after a backoff, up to `retries` times. The task is never submitted again here.
   */
  private async follow(id: string, ref: TaskRef): Promise<void> {
    const retries = this.options.retries ?? 2;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.followOnce(id, ref);
        return;
      } catch (error) {
        if (error instanceof AbortError && this.stop.signal.aborted) return;
        if (!isSafeToRetry(error) || attempt > retries) {
          this.fail(id, ["processing"], storedError(error));
          return;
        }
        this.counters.retried++;
        this.options.log?.warn(
          { taskId: id, error: describe(error), attempt },
          `task ${id}: ${describe(error)}; polling it again (retry ${attempt} of ${retries})`,
        );
        try {
          await sleep(
            retryDelay(attempt - 1, undefined, this.options.random ?? Math.random),
            this.stop.signal,
          );
        } catch {
          return; // stopping: the task stays `processing` with its upstream id, for the next start to poll
        }
      }
    }
  }

  /** One wait and download; throws what went wrong. */
  private async followOnce(id: string, ref: TaskRef): Promise<void> {
    const submitted = Date.parse(ref.submittedAt);
    const startedAt = Number.isFinite(submitted) ? submitted : Date.now();
    const result = await this.jimeng.waitFor(ref, {
      signal: this.stop.signal,
      ...(this.options.timeout !== undefined ? { timeout: this.options.timeout } : {}),
      onUpdate: (status: TaskStatus) => {
        if (status.status !== "queued" && status.status !== "running") return;
        const progress = pollingProgress(Date.now() - startedAt, ref);
        this.store.updateTask(id, ["processing"], { progress });
        this.changed(id);
      },
    });
    const task = this.store.getTask(id);
    const dir = taskFolder(id);
    const files = await downloadOutputs(result.status.outputs, {
      dir: path.join(this.store.filesDir, dir),
      name: "{index}",
      context: { prompt: task?.request.prompt ?? "", model: ref.model, taskId: ref.taskId },
      signal: this.stop.signal,
      transport: this.transport,
    });
    const outputs: StoredOutput[] = files.map((file) => ({
      file: path.join(dir, path.basename(file.file)),
      bytes: file.bytes,
      sha256: file.sha256,
      contentType: file.contentType,
      ...(file.url ? { sourceUrl: file.url } : {}),
    }));
    this.store.updateTask(id, ["processing"], {
      status: "completed",
      progress: 100,
      outputs,
      finishedAt: Date.now(),
    });
    this.counters.completed++;
    this.changed(id);
  }

  private fail(id: string, from: StoredTask["status"][], error: StoredError): void {
    if (!failTask(this.store, id, from, error, this.options.refundOn)) return;
    this.counters.failed++;
    this.changed(id);
  }
}

/** The folder of a task's outputs under `<data>/files`: a hash, whatever characters the id has. */
export function taskFolder(id: string): string {
  return createHash("sha256").update(id).digest("hex").slice(0, 24);
}

/** Seed 003's polling stage: 30 % when the request is created, rising towards 90 % as the wait goes on. */
export function pollingProgress(elapsedMs: number, ref: Pick<TaskRef, "kind">): number {
  const typicalMs = ref.kind === "video" ? 90_000 : 20_000;
  const share = 1 - Math.exp(-elapsedMs / typicalMs);
  return Math.min(90, 30 + Math.round(60 * share));
}
