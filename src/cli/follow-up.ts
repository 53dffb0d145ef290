/**
 * Commands the CLI prints for the user to run next. They must work when pasted as printed: every word is
 * shell-quoted, a run on the built-in emulator says `--emulator` (its tasks live in the emulator's own
 * task list, which only an emulator run reads), and a run through `--server <url>` names the service again
 * (never its API key: that one comes from JIMENG_SERVER_API_KEY, or `--api-key` typed again).
 */
import { ENV_NAMES } from "../setting-names.js";
import type { Settings } from "./config.js";
import { shellQuote } from "./shell-quote.js";

export interface FollowUpOptions {
  /** The run used the built-in emulator. */
  emulator?: boolean;
  /** The shared service the run named with `--server` (one named by JIMENG_SERVER_URL needs no flag). */
  server?: string;
  /** The service's API key was typed with `--api-key`: the printed command cannot carry it. */
  keyTyped?: boolean;
}

/** The follow-up flags a run's settings call for. */
export function followUpOf(
  settings: Pick<Settings, "emulator" | "server" | "serverKeyTyped">,
): FollowUpOptions {
  return {
    emulator: settings.emulator,
    ...(settings.server?.source === "flag" ? { server: settings.server.value } : {}),
    ...(settings.serverKeyTyped ? { keyTyped: true } : {}),
  };
}

/** What a printed command needs that it cannot carry: "" or " with JIMENG_SERVER_API_KEY set (…)". */
export function followUpNeeds(options: FollowUpOptions = {}): string {
  return options.keyTyped
    ? ` with ${ENV_NAMES.serverApiKey} set (the key given with --api-key is never printed)`
    : "";
}

/** `jimeng <args…>`, quoted, with `--emulator` or `--server <url>` when the run used them. */
export function followUp(args: readonly string[], options: FollowUpOptions = {}): string {
  const words = ["jimeng", ...args.map(shellQuote)];
  if (options.emulator) words.push("--emulator");
  if (options.server !== undefined) words.push("--server", shellQuote(options.server));
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
