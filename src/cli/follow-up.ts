/**
 * Commands the CLI prints for the user to run next. They must work when pasted as printed: every word is
 * shell-quoted, and a run on the built-in emulator says `--emulator` (its tasks live in the emulator's own
 * task list, which only an emulator run reads).
 */
import { shellQuote } from "./shell-quote.js";

export interface FollowUpOptions {
  /** The run used the built-in emulator. */
  emulator?: boolean;
}

/** `jimeng <args…>`, quoted, with `--emulator` when the run used it. */
export function followUp(args: readonly string[], options: FollowUpOptions = {}): string {
  const words = ["jimeng", ...args.map(shellQuote)];
  if (options.emulator) words.push("--emulator");
  return words.join(" ");
}

/** The command that picks a submitted task up again: waits (unless it already ended) and saves its outputs. */
export function resultCommand(
  taskId: string,
  options: FollowUpOptions & { out?: string; wait?: boolean } = {},
): string {
  const args = ["result", taskId];
  if (options.wait !== false) args.push("--wait");
  args.push("--download");
  if (options.out !== undefined) args.push("-o", options.out);
  return followUp(args, options);
}
