/**
 * Output folders, created and checked before anything is paid for. Folders are created one level at a time:
 * Node's recursive mkdir retries without end on some paths (`/proc/x` answers ENOENT to every attempt, so
 * `mkdir -p` spun at 100 % CPU), and a level that cannot be made has to end in a message, promptly.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { JimengError } from "../errors.js";

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function folderError(message: string, cause?: unknown): JimengError {
  const code = codeOf(cause);
  return new JimengError(`${message}${code ? ` (${code})` : ""}`, {
    code: "FILE_WRITE_FAILED",
    hint: "pick a folder you can write to",
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Creates `dir` and its missing parents, one level at a time. Throws FILE_WRITE_FAILED naming the folder. */
export async function createFolder(dir: string): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let current = target; ; ) {
    try {
      if ((await stat(current)).isDirectory()) break;
      throw folderError(`cannot create the folder ${dir}: ${current} is a file, not a folder`);
    } catch (error) {
      if (error instanceof JimengError) throw error;
      if (codeOf(error) === "ENOTDIR") {
        throw folderError(
          `cannot create the folder ${dir}: a part of the path is a file, not a folder`,
          error,
        );
      }
      if (codeOf(error) !== "ENOENT") throw folderError(`cannot create the folder ${dir}`, error);
      const parent = dirname(current);
      if (parent === current) throw folderError(`cannot create the folder ${dir}`, error);
      missing.push(current);
      current = parent;
    }
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      if (codeOf(error) === "EEXIST" && (await stat(folder).catch(() => undefined))?.isDirectory()) continue;
      throw folderError(`cannot create the folder ${dir}`, error);
    }
  }
}

/** Creates `dir` (see createFolder) and proves a file can be written in it (written, then removed). */
export async function ensureWritableFolder(dir: string): Promise<void> {
  await createFolder(dir);
  const probe = join(resolve(dir), `.jimeng-write-test-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const handle = await open(probe, "wx", 0o600);
    await handle.close();
  } catch (error) {
    throw folderError(`cannot write in the folder ${dir}`, error);
  }
  await unlink(probe).catch(() => undefined);
}
