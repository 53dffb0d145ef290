/**
 * The output folder, created and probed with a real write before anything is submitted: a task is paid for
 * when it is submitted, so a folder that cannot hold its files must stop the run first (exit 2, nothing sent).
 */
import { JimengError, ValidationError } from "../errors.js";
import type { Setting } from "./config.js";

export async function checkOutputFolder(dir: Setting<string>): Promise<void> {
  const { ensureWritableFolder } = await import("../media/folder.js");
  try {
    await ensureWritableFolder(dir.value);
  } catch (error) {
    if (!(error instanceof JimengError)) throw error;
    throw new ValidationError(
      [{ path: dir.source === "config" ? "outDir" : "--out", message: error.message }],
      {
        hint: "nothing was sent; pick a folder you can write to with -o",
      },
    );
  }
}
