/**
 * Writing files without being steered by what is already on disk. A symlink planted at a file's final name
 * (`<out>/report.json` → `~/.bashrc`) must not make us write through it: whole files are written to a fresh
 * temp file created exclusively in the same folder and renamed over the name (a rename replaces a link, it
 * never follows one); append-only files are opened with O_NOFOLLOW. A name that is a symlink is refused with
 * a message saying so. Files are private to the user (0600): they may hold what a server said.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, lstat, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { JimengError } from "../errors.js";

export const PRIVATE_FILE_MODE = 0o600;

/** A file or folder we were about to write is a symlink (or something else in the way). */
export class UnsafePathError extends JimengError {
  override name = "UnsafePathError";
  readonly path: string;

  constructor(file: string, message: string, hint: string) {
    super(message, { code: "UNSAFE_PATH", hint });
    this.path = file;
  }
}

function symlinkRefused(file: string, what: string): UnsafePathError {
  return new UnsafePathError(
    file,
    `refusing to write the ${what} through a symlink: ${file}`,
    "remove the symlink (or choose another -o folder); the CLI never writes through links at the names it owns",
  );
}

/** Throws UnsafePathError when `file` is a symlink; a missing file is fine. */
export async function refuseSymlink(file: string, what: string): Promise<void> {
  const info = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    // Not there (or a file where a folder should be): nothing to follow; creating it reports the problem.
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  });
  if (info?.isSymbolicLink()) throw symlinkRefused(file, what);
}

/** Creates `dir` (and its parents); a file or a symlink where the folder should be is a clear error. */
export async function ensureFolder(dir: string, what: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (info?.isSymbolicLink()) throw symlinkRefused(dir, what);
  if (info && !info.isDirectory()) {
    throw new UnsafePathError(
      dir,
      `cannot use ${dir} as the ${what}: it is a file, not a folder`,
      "move that file away, or choose another -o folder",
    );
  }
  if (info) return;
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnsafePathError(
      dir,
      `cannot create the ${what} ${dir}${code ? ` (${code})` : ""}`,
      "check that no file is in the way and that the folder is writable",
    );
  }
}

/**
 * Writes `data` (or the chunks it yields) to `file` as a whole: a temp file created with O_EXCL beside it, then
 * renamed over the name.
 * Refuses a `file` that is a symlink. Readers never see a half-written file.
 */
export async function writeFileSafely(
  file: string,
  data: string | Uint8Array | AsyncIterable<string>,
  options: { what: string; mode?: number },
): Promise<void> {
  await refuseSymlink(file, options.what);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", options.mode ?? PRIVATE_FILE_MODE);
    if (typeof data === "string" || data instanceof Uint8Array) await handle.writeFile(data);
    else for await (const chunk of data) await handle.write(chunk);
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Opens `file` for appending (and reading), created 0600 when missing, never through a symlink at its name
 * (O_NOFOLLOW; UnsafePathError when one is there). An existing file is made 0600 too.
 */
export async function openForAppend(file: string, what: string): Promise<FileHandle> {
  await refuseSymlink(file, what);
  let handle: FileHandle;
  try {
    handle = await open(
      file,
      constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | NOFOLLOW,
      PRIVATE_FILE_MODE,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw symlinkRefused(file, what);
    throw error;
  }
  if (process.platform !== "win32") await handle.chmod(PRIVATE_FILE_MODE).catch(() => undefined);
  return handle;
}
