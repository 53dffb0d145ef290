/**
 * What the routes share: the store, the worker pool, the provider, quotas and credits. Creating a task is
 * one savepoint (quota checks, credits, the task rows) in the group commit of its event-loop turn, so a `201`
 * is only sent for a task that is stored, and a refused request changes nothing.
 */
import { randomBytes } from "node:crypto";
import type { Provider } from "../providers/types.js";
import type { TaskQueue } from "../queue/seam.js";
import type { Store, StoredRequest, StoredTask, StoredUser, TaskOrigin } from "../queue/store.js";
import { GroupCommit } from "./group-commit.js";
import { HttpError, notFound } from "./http-error.js";
import { hashApiKey, newApiKey } from "./keys.js";
import type { Quotas } from "./quotas.js";
import type { Caller } from "./routing.js";

export const DEFAULT_CREDITS = 10;

export interface NewTask {
  origin: TaskOrigin;
  request: StoredRequest;
  meta: Record<string, unknown>;
  outputs: number;
}

const ID_PREFIX: Record<TaskOrigin, string> = {
  image: "jimeng_img",
  i2i: "jimeng_i2i",
  generic: "jimeng_task",
  video: "jimeng_vid",
  batch: "batch",
};

/** How long a verified key's user is remembered without asking the store (user changes clear it at once). */
const KEY_CACHE_MS = 5_000;

export class Service {
  readonly writes: GroupCommit;
  private readonly keys = new Map<string, { user: StoredUser; until: number }>();

  constructor(
    readonly store: Store,
    readonly pool: TaskQueue,
    readonly provider: Provider,
    readonly quotas: Quotas,
    readonly defaultCredits: number,
    readonly clock: () => number = Date.now,
  ) {
    this.writes = new GroupCommit(store);
  }

  /** The user of an API key (by its hash), or undefined; remembered for a few seconds. */
  userForKey(keyHash: string): StoredUser | undefined {
    const now = this.clock();
    const known = this.keys.get(keyHash);
    if (known && known.until > now) return known.user;
    const user = this.store.userByKeyHash(keyHash);
    if (user) this.keys.set(keyHash, { user, until: now + KEY_CACHE_MS });
    else this.keys.delete(keyHash);
    return user;
  }

  /** Forgets the remembered key owners: call after a user changed or was deleted. */
  forgetKeys(): void {
    this.keys.clear();
  }

  /** A new user with a key; the key is returned once and only its hash is kept. */
  createUser(fields: { id?: string; email?: string; name?: string; credits?: number; admin?: boolean }): {
    user: StoredUser;
    apiKey: string;
  } {
    const id = fields.id ?? `user_${randomBytes(6).toString("hex")}`;
    if (this.store.getUser(id)) throw new HttpError(409, "conflict", `user ${id} already exists`);
    const apiKey = newApiKey();
    const user = this.store.transaction(() => {
      const created = this.store.insertUser({
        id,
        credits: fields.credits ?? this.defaultCredits,
        admin: fields.admin ?? false,
        ...(fields.email !== undefined ? { email: fields.email } : {}),
        ...(fields.name !== undefined ? { name: fields.name } : {}),
      });
      this.store.insertKey(hashApiKey(apiKey), id);
      return created;
    });
    return { user, apiKey };
  }

  /**
   * The user a task is for: the caller, or (admin only) the named user, created on first use as the seeds'
   * open servers did with any `user_id`.
   */
  targetUser(caller: Caller, userId: string): StoredUser {
    if (userId === caller.user.id) return caller.user;
    const existing = this.store.getUser(userId);
    if (existing) return existing;
    return this.store.insertUser({ id: userId, credits: this.defaultCredits, admin: false });
  }

  /** A task the caller may see: its own (the admin sees every task). Others' tasks are "not found". */
  visibleTask(caller: Caller, id: string): StoredTask {
    const task = this.store.getTask(id);
    if (!task || (task.userId !== caller.user.id && !caller.user.admin)) throw notFound(`task ${id}`);
    return task;
  }

  /**
   * Stores tasks for `user` after the quota checks, charging `credits` per task (the admin is not charged);
   * `402` when the balance cannot cover them. With `batch`, they form a new batch (seed 003's id). Resolves
   * once they are committed (with the balance left when `creditsEach` was given), and queues them.
   */
  async createTasks(
    user: StoredUser,
    tasks: readonly NewTask[],
    options: { creditsEach?: number; batch?: boolean } = {},
  ): Promise<{ tasks: StoredTask[]; creditsCharged: number; creditsRemaining?: number; batchId?: string }> {
    const images = tasks.reduce((sum, task) => sum + task.outputs, 0);
    const charge = user.admin ? 0 : (options.creditsEach ?? 0) * tasks.length;
    const now = this.clock();
    const created = await this.writes.run(() => {
      this.quotas.checkTasks(user, tasks.length, images);
      const charged = charge > 0 ? this.store.charge(user.id, charge) : undefined;
      if (charge > 0 && charged === undefined) {
        const balance = this.store.getUser(user.id)?.credits ?? 0;
        throw new HttpError(
          402,
          "insufficient credits",
          `this needs ${charge} credits; user ${user.id} has ${balance}`,
          { credits_required: charge, credits_remaining: balance },
        );
      }
      // Chosen inside the transaction: it sees the batches created earlier in the same group.
      const batchId = options.batch ? this.newBatchId(user.id, now) : undefined;
      if (batchId)
        this.store.insertBatch({ id: batchId, userId: user.id, total: tasks.length, createdAt: now });
      const rows = tasks.map((task, index) =>
        this.store.insertTask({
          id: batchId ? `${batchId}:${index}` : this.newTaskId(task.origin, now),
          userId: user.id,
          origin: task.origin,
          request: task.request,
          meta: task.meta,
          credits: user.admin ? 0 : (options.creditsEach ?? 0),
          ...(batchId ? { batchId, batchIndex: index } : {}),
        }),
      );
      this.store.addImages(user.id, images);
      // The balance only when credits are at stake: the image routes answer without it.
      const remaining =
        options.creditsEach === undefined
          ? undefined
          : (charged ?? this.store.getUser(user.id)?.credits ?? 0);
      return { rows, batchId, remaining };
    });
    for (const task of created.rows) this.pool.enqueue(task.id);
    return {
      tasks: created.rows,
      creditsCharged: charge,
      ...(created.remaining !== undefined ? { creditsRemaining: created.remaining } : {}),
      ...(created.batchId ? { batchId: created.batchId } : {}),
    };
  }

  /** Seed 003's batch id, `batch:<user>:<ms>`, unique even for two batches in one millisecond. */
  private newBatchId(userId: string, now: number): string {
    let ms = now;
    while (this.store.batchExists(`batch:${userId}:${ms}`)) ms++;
    return `batch:${userId}:${ms}`;
  }

  private newTaskId(origin: TaskOrigin, now: number): string {
    return `${ID_PREFIX[origin]}_${now}_${randomBytes(4).toString("hex")}`;
  }
}
