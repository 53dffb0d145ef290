/**
 * The embedded store of `jimeng serve`: one SQLite file (`<data>/jimeng.db`, WAL) holding users, hashed API
 * keys, tasks, batches and daily usage. Synchronous (better-sqlite3): a write has reached the database file's
 * WAL when the call returns, so a `201` sent after `insertTask` survives a crash of the process (kill -9).
 *
 * Task states: pending → submitting (written before the paid request is sent) → processing (the upstream
 * task id is recorded) → completed | failed; pending → cancelled.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { BatchJob } from "../batch/job.js";
import type { TaskRef } from "../providers/types.js";

export type StoredTaskStatus = "pending" | "submitting" | "processing" | "completed" | "failed" | "cancelled";
/** Which route family made the task: decides its id form and its answers. */
export type TaskOrigin = "image" | "generic" | "video" | "batch" | "i2i";

/** What the worker sends upstream: a batch job's request fields (the same shape), without local paths. */
export type StoredRequest = Pick<
  BatchJob,
  | "kind"
  | "prompt"
  | "model"
  | "images"
  | "count"
  | "ratio"
  | "resolution"
  | "size"
  | "seed"
  | "negative"
  | "strength"
  | "duration"
>;

export interface StoredOutput {
  /** Path of the service's copy, relative to `<data>/files`. */
  file: string;
  bytes: number;
  sha256: string;
  contentType: string;
  /** The upstream link it came from (expires after about 24 h). */
  sourceUrl?: string;
}

export interface StoredError {
  code: string | number;
  message: string;
  requestId?: string;
}

export interface StoredTask {
  id: string;
  userId: string;
  origin: TaskOrigin;
  request: StoredRequest;
  /** The seed route's own fields (size, quality, style, output_format…), echoed in answers. */
  meta: Record<string, unknown>;
  status: StoredTaskStatus;
  /** 0–100, the seed's stages: 0 waiting, 10 received, 30 request created, 30–90 polling, 100 done. */
  progress: number;
  batchId?: string;
  batchIndex?: number;
  ref?: TaskRef;
  outputs: StoredOutput[];
  error?: StoredError;
  /** Credits charged for it (refunded on failure where the seed says so). */
  credits: number;
  /** How many times the worker started a submit for it (more than 1 only after an uncertain submit). */
  submits: number;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
}

export interface StoredUser {
  id: string;
  email?: string;
  name?: string;
  credits: number;
  admin: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface StoredBatch {
  id: string;
  userId: string;
  total: number;
  createdAt: number;
}

interface TaskRow {
  id: string;
  user_id: string;
  origin: TaskOrigin;
  request: string;
  meta: string;
  status: StoredTaskStatus;
  progress: number;
  batch_id: string | null;
  batch_index: number | null;
  ref: string | null;
  outputs: string;
  error: string | null;
  credits: number;
  submits: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

interface UserRow {
  id: string;
  email: string | null;
  name: string | null;
  credits: number;
  admin: number;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT, name TEXT, credits INTEGER NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS users_email ON users(email);
CREATE TABLE IF NOT EXISTS api_keys (
  hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, origin TEXT NOT NULL, request TEXT NOT NULL, meta TEXT NOT NULL,
  status TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0, batch_id TEXT, batch_index INTEGER, ref TEXT,
  outputs TEXT NOT NULL DEFAULT '[]', error TEXT, credits INTEGER NOT NULL DEFAULT 0,
  submits INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  finished_at INTEGER);
CREATE INDEX IF NOT EXISTS tasks_user ON tasks(user_id, created_at);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status);
CREATE INDEX IF NOT EXISTS tasks_user_status ON tasks(user_id, status);
CREATE INDEX IF NOT EXISTS tasks_batch ON tasks(batch_id, batch_index);
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, total INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS batches_user ON batches(user_id, created_at);
CREATE TABLE IF NOT EXISTS usage (
  user_id TEXT NOT NULL, day TEXT NOT NULL, images INTEGER NOT NULL, PRIMARY KEY (user_id, day));
`;

/** Statuses a task never leaves. */
export const FINAL_STATUSES: readonly StoredTaskStatus[] = ["completed", "failed", "cancelled"];

function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

function toTask(row: TaskRow): StoredTask {
  const task: StoredTask = {
    id: row.id,
    userId: row.user_id,
    origin: row.origin,
    request: JSON.parse(row.request) as StoredRequest,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    status: row.status,
    progress: row.progress,
    outputs: JSON.parse(row.outputs) as StoredOutput[],
    credits: row.credits,
    submits: row.submits,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.batch_id !== null) task.batchId = row.batch_id;
  if (row.batch_index !== null) task.batchIndex = row.batch_index;
  const ref = parseJson<TaskRef>(row.ref);
  if (ref) task.ref = ref;
  const error = parseJson<StoredError>(row.error);
  if (error) task.error = error;
  if (row.finished_at !== null) task.finishedAt = row.finished_at;
  return task;
}

function toUser(row: UserRow): StoredUser {
  const user: StoredUser = {
    id: row.id,
    credits: row.credits,
    admin: row.admin === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.email !== null) user.email = row.email;
  if (row.name !== null) user.name = row.name;
  return user;
}

/** The UTC day of `ms`, the unit of the images-per-day quota. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

type Database = BetterSqlite3.Database;

/** better-sqlite3 is loaded here, on first use, so that the CLI and `import "jimeng"` never load it. */
function openDatabase(file: string): Database {
  const require = createRequire(import.meta.url);
  let Driver: typeof BetterSqlite3;
  try {
    Driver = require("better-sqlite3") as typeof BetterSqlite3;
  } catch (error) {
    throw new Error(
      "jimeng serve needs better-sqlite3 12: npm install better-sqlite3@12 fastify@5 @fastify/multipart",
      { cause: error },
    );
  }
  return new Driver(file);
}

export interface StoreOptions {
  /** The data folder: `jimeng.db` and `files/` live in it. Created when missing. ":memory:" for tests. */
  dir: string;
  clock?: () => number;
}

export class Store {
  readonly db: Database;
  readonly filesDir: string;
  private readonly clock: () => number;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(options: StoreOptions) {
    this.clock = options.clock ?? Date.now;
    const memory = options.dir === ":memory:";
    if (!memory) mkdirSync(path.join(options.dir, "files"), { recursive: true, mode: 0o700 });
    this.filesDir = memory ? "" : path.resolve(options.dir, "files");
    this.db = openDatabase(memory ? ":memory:" : path.join(options.dir, "jimeng.db"));
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a commit is in the WAL file when the call returns (safe against a crashed
    // process); only a power loss can drop the last commits.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  /** A prepared statement, compiled once per SQL text. */
  private sql(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** A quick read that proves the database answers (for `/ready`). */
  ping(): boolean {
    return (this.sql("SELECT 1 AS ok").get() as { ok: number }).ok === 1;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // ── users and keys ──────────────────────────────────────────────────────────────────────────────

  insertUser(user: Omit<StoredUser, "createdAt" | "updatedAt">): StoredUser {
    const now = this.clock();
    this.sql(
      "INSERT INTO users (id, email, name, credits, admin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(user.id, user.email ?? null, user.name ?? null, user.credits, user.admin ? 1 : 0, now, now);
    return { ...user, createdAt: now, updatedAt: now };
  }

  getUser(id: string): StoredUser | undefined {
    const row = this.sql("SELECT * FROM users WHERE id = ?").get(id) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  findUsersByEmail(email: string): StoredUser[] {
    const rows = this.sql("SELECT * FROM users WHERE email = ? ORDER BY created_at").all(email);
    return (rows as UserRow[]).map(toUser);
  }

  listUsers(): StoredUser[] {
    return (this.sql("SELECT * FROM users ORDER BY created_at").all() as UserRow[]).map(toUser);
  }

  updateUser(
    id: string,
    fields: { email?: string; name?: string; credits?: number },
  ): StoredUser | undefined {
    const user = this.getUser(id);
    if (!user) return undefined;
    const next = { ...user, ...fields, updatedAt: this.clock() };
    this.sql("UPDATE users SET email = ?, name = ?, credits = ?, updated_at = ? WHERE id = ?").run(
      next.email ?? null,
      next.name ?? null,
      next.credits,
      next.updatedAt,
      id,
    );
    return next;
  }

  deleteUser(id: string): boolean {
    return this.sql("DELETE FROM users WHERE id = ? AND admin = 0").run(id).changes > 0;
  }

  hasAdmin(): boolean {
    return this.sql("SELECT 1 FROM users WHERE admin = 1 LIMIT 1").get() !== undefined;
  }

  insertKey(hash: string, userId: string): void {
    this.sql("INSERT INTO api_keys (hash, user_id, created_at) VALUES (?, ?, ?)").run(
      hash,
      userId,
      this.clock(),
    );
  }

  userByKeyHash(hash: string): StoredUser | undefined {
    const row = this.sql(
      "SELECT users.* FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.hash = ?",
    ).get(hash) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  /**
   * Takes `amount` credits from the user if the balance covers them; returns the new balance, or undefined
   * when it does not (nothing is taken).
   */
  charge(userId: string, amount: number): number | undefined {
    const changed = this.sql("UPDATE users SET credits = credits - ? WHERE id = ? AND credits >= ?").run(
      amount,
      userId,
      amount,
    ).changes;
    if (changed === 0) return undefined;
    return this.getUser(userId)?.credits;
  }

  refund(userId: string, amount: number): void {
    this.sql("UPDATE users SET credits = credits + ? WHERE id = ?").run(amount, userId);
  }

  // ── usage (images per day) ──────────────────────────────────────────────────────────────────────

  imagesToday(userId: string): number {
    const row = this.sql("SELECT images FROM usage WHERE user_id = ? AND day = ?").get(
      userId,
      utcDay(this.clock()),
    ) as { images: number } | undefined;
    return row?.images ?? 0;
  }

  addImages(userId: string, images: number): void {
    this.sql(
      "INSERT INTO usage (user_id, day, images) VALUES (?, ?, ?) ON CONFLICT(user_id, day) DO UPDATE SET images = images + excluded.images",
    ).run(userId, utcDay(this.clock()), images);
  }

  // ── tasks ───────────────────────────────────────────────────────────────────────────────────────

  insertTask(
    task: Pick<StoredTask, "id" | "userId" | "origin" | "request" | "meta" | "credits"> &
      Partial<Pick<StoredTask, "batchId" | "batchIndex">>,
  ): StoredTask {
    const now = this.clock();
    this.sql(
      `INSERT INTO tasks (id, user_id, origin, request, meta, status, progress, batch_id, batch_index, credits,
          created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)`,
    ).run(
      task.id,
      task.userId,
      task.origin,
      JSON.stringify(task.request),
      JSON.stringify(task.meta),
      task.batchId ?? null,
      task.batchIndex ?? null,
      task.credits,
      now,
      now,
    );
    // What the row now holds, without reading it back (task creation is the service's hot path).
    const stored: StoredTask = {
      id: task.id,
      userId: task.userId,
      origin: task.origin,
      request: task.request,
      meta: task.meta,
      status: "pending",
      progress: 0,
      outputs: [],
      credits: task.credits,
      submits: 0,
      createdAt: now,
      updatedAt: now,
    };
    if (task.batchId !== undefined) stored.batchId = task.batchId;
    if (task.batchIndex !== undefined) stored.batchIndex = task.batchIndex;
    return stored;
  }

  getTask(id: string): StoredTask | undefined {
    const row = this.sql("SELECT * FROM tasks WHERE id = ?").get(id) as TaskRow | undefined;
    return row ? toTask(row) : undefined;
  }

  /** A user's tasks, newest first, one page; `after` is the `seq` of the last task of the previous page. */
  listTasks(
    userId: string,
    options: { limit: number; after?: number; status?: StoredTaskStatus },
  ): { tasks: StoredTask[]; lastSeq?: number } {
    const where = ["user_id = ?"];
    const params: (string | number)[] = [userId];
    if (options.status) {
      where.push("status = ?");
      params.push(options.status);
    }
    if (options.after !== undefined) {
      where.push("rowid < ?");
      params.push(options.after);
    }
    const rows = this.sql(
      `SELECT rowid AS seq, * FROM tasks WHERE ${where.join(" AND ")} ORDER BY rowid DESC LIMIT ?`,
    ).all(...params, options.limit) as (TaskRow & { seq: number })[];
    const last = rows[rows.length - 1];
    return { tasks: rows.map(toTask), ...(last ? { lastSeq: last.seq } : {}) };
  }

  /** Tasks the worker pool must pick up again after a start: not final, oldest first. */
  unfinishedTasks(): StoredTask[] {
    const rows = this.sql(
      "SELECT * FROM tasks WHERE status IN ('pending', 'submitting', 'processing') ORDER BY created_at, rowid",
    ).all() as TaskRow[];
    return rows.map(toTask);
  }

  /** Unfinished tasks of a user (the concurrent-tasks quota). */
  activeTaskCount(userId: string): number {
    const row = this.sql(
      "SELECT COUNT(*) AS n FROM tasks WHERE user_id = ? AND status IN ('pending', 'submitting', 'processing')",
    ).get(userId) as { n: number };
    return row.n;
  }

  countByStatus(): Record<StoredTaskStatus, number> {
    const counts: Record<StoredTaskStatus, number> = {
      pending: 0,
      submitting: 0,
      processing: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
    const rows = this.sql("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status").all() as {
      status: StoredTaskStatus;
      n: number;
    }[];
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /** Moves a task on; only from one of `from` (returns false when it was in another state). */
  updateTask(
    id: string,
    from: readonly StoredTaskStatus[],
    fields: Partial<
      Pick<StoredTask, "status" | "progress" | "ref" | "outputs" | "error" | "finishedAt" | "credits">
    > & { addSubmit?: boolean; clearRef?: boolean },
  ): boolean {
    const sets = ["updated_at = ?"];
    const params: (string | number | null)[] = [this.clock()];
    const set = (column: string, value: string | number | null) => {
      sets.push(`${column} = ?`);
      params.push(value);
    };
    if (fields.status !== undefined) set("status", fields.status);
    if (fields.progress !== undefined) set("progress", fields.progress);
    if (fields.ref !== undefined) set("ref", JSON.stringify(fields.ref));
    if (fields.clearRef) set("ref", null);
    if (fields.outputs !== undefined) set("outputs", JSON.stringify(fields.outputs));
    if (fields.error !== undefined) set("error", JSON.stringify(fields.error));
    if (fields.finishedAt !== undefined) set("finished_at", fields.finishedAt);
    if (fields.credits !== undefined) set("credits", fields.credits);
    if (fields.addSubmit) sets.push("submits = submits + 1");
    const placeholders = from.map(() => "?").join(", ");
    const result = this.sql(
      `UPDATE tasks SET ${sets.join(", ")} WHERE id = ? AND status IN (${placeholders})`,
    ).run(...params, id, ...from);
    return result.changes > 0;
  }

  /** Puts a finished task back in the queue (a retry): its old upstream task, outputs and error are dropped. */
  requeueTask(id: string, credits: number): boolean {
    const result = this.sql(
      `UPDATE tasks SET status = 'pending', progress = 0, ref = NULL, outputs = '[]', error = NULL,
          finished_at = NULL, credits = ?, updated_at = ? WHERE id = ? AND status IN ('completed', 'failed', 'cancelled')`,
    ).run(credits, this.clock(), id);
    return result.changes > 0;
  }

  // ── batches ─────────────────────────────────────────────────────────────────────────────────────

  insertBatch(batch: StoredBatch): void {
    this.sql("INSERT INTO batches (id, user_id, total, created_at) VALUES (?, ?, ?, ?)").run(
      batch.id,
      batch.userId,
      batch.total,
      batch.createdAt,
    );
  }

  getBatch(id: string): StoredBatch | undefined {
    const row = this.sql("SELECT * FROM batches WHERE id = ?").get(id) as
      | { id: string; user_id: string; total: number; created_at: number }
      | undefined;
    return row ? { id: row.id, userId: row.user_id, total: row.total, createdAt: row.created_at } : undefined;
  }

  batchExists(id: string): boolean {
    return this.sql("SELECT 1 FROM batches WHERE id = ?").get(id) !== undefined;
  }

  listBatches(userId: string): StoredBatch[] {
    const rows = this.sql("SELECT * FROM batches WHERE user_id = ? ORDER BY created_at DESC").all(userId) as {
      id: string;
      user_id: string;
      total: number;
      created_at: number;
    }[];
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      total: row.total,
      createdAt: row.created_at,
    }));
  }

  batchTasks(batchId: string): StoredTask[] {
    const rows = this.sql("SELECT * FROM tasks WHERE batch_id = ? ORDER BY batch_index, created_at").all(
      batchId,
    ) as TaskRow[];
    return rows.map(toTask);
  }
}
