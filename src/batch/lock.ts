/**
 * One batch run per output folder: `<out>/.jimeng/lock` is created exclusively (O_EXCL) and holds the owner's
 * pid, host and start time. A second run finds it and stops before sending anything. A lock left behind by a
 * process that died (kill -9, a crash) is stale when it names this host and a pid that no longer runs; it is
 * taken over atomically (renamed aside and checked), so two runs that both find it stale cannot both win.
 * The lock is removed when the run ends, and on process exit as a last resort.
 */
import { unlinkSync } from "node:fs";
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { BATCH_LOCKED_CODE, JimengError } from "../errors.js";
import { ensureFolder } from "../fs/safe-write.js";
import { JOURNAL_DIR } from "./journal.js";

export const LOCK_FILE = "lock";

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** The output folder is in use by another batch run; nothing was sent. */
export class BatchLockedError extends JimengError {
  override name = "BatchLockedError";
  readonly owner: LockOwner | undefined;
  readonly lockFile: string;

  constructor(lockFile: string, owner: LockOwner | undefined) {
    const who = owner
      ? `process ${owner.pid} on ${owner.host} (since ${owner.startedAt})`
      : "another process (its lock file could not be read)";
    super(`the output folder is in use by another jimeng batch: ${who}; nothing was sent`, {
      code: BATCH_LOCKED_CODE,
      hint: `wait for that run to finish, or stop it; if no such run exists, delete ${lockFile}`,
    });
    this.owner = owner;
    this.lockFile = lockFile;
  }
}

export interface OutputLock {
  readonly file: string;
  release(): Promise<void>;
}

/** `<out>/.jimeng/lock` */
export function lockPath(out: string): string {
  return path.join(out, JOURNAL_DIR, LOCK_FILE);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof value.pid === "number" &&
      typeof value.host === "string" &&
      typeof value.startedAt === "string"
    ) {
      return { pid: value.pid, host: value.host, startedAt: value.startedAt };
    }
  } catch {
    // A lock torn by a crash between create and write: judged by its age below.
  }
  return undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A torn lock (created, never written) is a run that died between the two, unless it is brand new. */
const TORN_LOCK_GRACE_MS = 5_000;

/** A lock whose owner provably is gone: this host, and its pid no longer runs. */
async function isStale(file: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner === undefined) {
    const info = await stat(file).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > TORN_LOCK_GRACE_MS;
  }
  return owner.host === hostname() && owner.pid !== process.pid && !isRunning(owner.pid);
}

/** Takes the lock of `out` or throws BatchLockedError naming the process that holds it. */
export async function lockOutput(out: string): Promise<OutputLock> {
  const file = lockPath(out);
  await ensureFolder(path.dirname(file), "journal folder");
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const content = `${JSON.stringify(owner)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(file, content, { flag: "wx", mode: 0o600 });
      return held(file, content);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue; // released meanwhile: try again
    const holder = parseOwner(text);
    if (!(await isStale(file, holder))) throw new BatchLockedError(file, holder);
    await takeOverStale(file, text);
  }
  throw new BatchLockedError(file, parseOwner(await readFile(file, "utf8").catch(() => "")));
}

/** Moves a stale lock aside; puts it back when what moved was in fact a fresh lock of another run. */
async function takeOverStale(file: string, staleText: string): Promise<void> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, "utf8").catch(() => staleText);
  if (moved !== staleText) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function held(file: string, content: string): OutputLock {
  let released = false;
  const onExit = () => {
    if (!released) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", onExit);
  return {
    file,
    release: async () => {
      if (released) return;
      released = true;
      process.off("exit", onExit);
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === content) await unlink(file).catch(() => undefined);
    },
  };
}
