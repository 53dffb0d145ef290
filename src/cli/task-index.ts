/**
 * The local task list: every submission the CLI made, one JSON line each in `tasks.jsonl` next to the config
 * file, so that `jimeng result <id>` works with just the id (the Visual API's GetResult needs the req_key the
 * task was submitted with, and session queries need the kind and the submitting account's hash).
 *
 * Append-only; the last line for an id wins; unreadable lines are skipped. It never holds a secret: provider,
 * model, kind, submittedAt, the session's account *hash*, and the start of the prompt (for `{slug}` names).
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PROVIDER_NAMES, type ProviderName } from "../errors.js";
import { openForAppend } from "../fs/safe-write.js";
import type { TaskKind, TaskRef, TaskState } from "../providers/types.js";
import { configFilePath } from "./config.js";

export const TASK_INDEX_FILE = "tasks.jsonl";
/**
 * Runs on the built-in emulator keep their own task list, and the emulator its tasks, in this sub-folder, so
 * demo tasks never mix with real ones and `jimeng result <id> --emulator` finds a task an earlier run made.
 */
export const EMULATOR_FOLDER = "emulator";
const EMULATOR_STATE_FILE = "state.jsonl";
/** Enough of the prompt to name files by; the rest is not needed. */
const PROMPT_CHARS = 200;
const PROVIDERS: readonly string[] = PROVIDER_NAMES;
const ARK_RESULTS_FILE = "ark-results.jsonl";
const KINDS: readonly string[] = ["generate", "compose", "video"];

export interface TaskIndexEntry {
  taskId: string;
  provider: ProviderName;
  model: string;
  kind: TaskKind;
  submittedAt: string;
  /** Session provider: the hash naming the submitting session (never the session id). */
  account?: string;
  /** Outputs to keep (`-n`), so that `result` trims as the submit asked. */
  count?: number;
  /** The start of the prompt. */
  prompt?: string;
  /** Created through a shared `jimeng serve` at this URL (its key is never recorded). */
  server?: string;
}

/**
 * A submit interrupted before its answer came: the task may exist upstream (and be charged) with no id known.
 * Kept in the list so the user can find it; `result` skips such lines (they have no task id).
 */
export interface SubmittingEntry {
  status: "submitting";
  provider: ProviderName;
  model: string;
  kind: TaskKind;
  /** When the submit was sent. */
  at: string;
  prompt?: string;
}

/** How a task ended, as a command saw it. */
export interface TaskOutcome {
  outcome: "ended";
  taskId: string;
  provider: ProviderName;
  status: TaskState;
  /** Absolute paths of the files saved. */
  files: string[];
  at: string;
}

/** Pure: the entry to record for a submit that may have landed without an answer. */
export function submittingEntry(
  fields: Omit<SubmittingEntry, "status" | "prompt">,
  prompt?: string,
): SubmittingEntry {
  const entry: SubmittingEntry = { status: "submitting", ...fields };
  if (prompt !== undefined) entry.prompt = [...prompt].slice(0, PROMPT_CHARS).join("");
  return entry;
}

/** The index file's path for this environment: beside the config file (emulator runs: in its sub-folder). */
export function taskIndexPath(env: NodeJS.ProcessEnv, emulator = false): string {
  const folder = dirname(configFilePath(env));
  return emulator ? join(folder, EMULATOR_FOLDER, TASK_INDEX_FILE) : join(folder, TASK_INDEX_FILE);
}

/** Where the ark provider keeps the images of its synchronous calls (next to the task list that names them). */
export function arkResultsPath(env: NodeJS.ProcessEnv, emulator = false): string {
  return join(dirname(taskIndexPath(env, emulator)), ARK_RESULTS_FILE);
}

/** Where the CLI's in-process emulator keeps its tasks between runs. */
export function emulatorStatePath(env: NodeJS.ProcessEnv): string {
  return join(dirname(configFilePath(env)), EMULATOR_FOLDER, EMULATOR_STATE_FILE);
}

/** Pure: the entry to record for a submitted task. */
export function entryFor(ref: TaskRef, prompt?: string, server?: string): TaskIndexEntry {
  const entry: TaskIndexEntry = {
    taskId: ref.taskId,
    provider: ref.provider,
    model: ref.model,
    kind: ref.kind,
    submittedAt: ref.submittedAt,
  };
  if (ref.account !== undefined) entry.account = ref.account;
  if (ref.count !== undefined) entry.count = ref.count;
  if (prompt !== undefined) entry.prompt = [...prompt].slice(0, PROMPT_CHARS).join("");
  if (server !== undefined) entry.server = server;
  return entry;
}

/** Pure: a line of the file as a JSON object, or undefined when it is not one. */
export function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: one line of the file as an entry, or undefined when it is not one. */
export function parseEntry(line: string): TaskIndexEntry | undefined {
  const v = parseObject(line);
  if (v === undefined) return undefined;
  if (typeof v.taskId !== "string" || v.taskId === "") return undefined;
  if (typeof v.provider !== "string" || !PROVIDERS.includes(v.provider)) return undefined;
  if (typeof v.model !== "string" || typeof v.kind !== "string" || !KINDS.includes(v.kind)) return undefined;
  if (typeof v.submittedAt !== "string") return undefined;
  const entry: TaskIndexEntry = {
    taskId: v.taskId,
    provider: v.provider as ProviderName,
    model: v.model,
    kind: v.kind as TaskKind,
    submittedAt: v.submittedAt,
  };
  if (typeof v.account === "string") entry.account = v.account;
  if (typeof v.count === "number" && Number.isInteger(v.count) && v.count > 0) entry.count = v.count;
  if (typeof v.prompt === "string") entry.prompt = v.prompt;
  if (typeof v.server === "string") entry.server = v.server;
  return entry;
}

/** Pure: the last entry for `taskId` in the file's text (of `provider`, when given). */
export function findEntry(text: string, taskId: string, provider?: ProviderName): TaskIndexEntry | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (!line.includes(taskId)) continue;
    const entry = parseEntry(line);
    if (entry?.taskId === taskId && (provider === undefined || entry.provider === provider)) return entry;
  }
  return undefined;
}

export interface TaskIndex {
  readonly path: string;
  record(entry: TaskIndexEntry | SubmittingEntry | TaskOutcome): Promise<void>;
  find(taskId: string, provider?: ProviderName): Promise<TaskIndexEntry | undefined>;
}

/**
 * The index of this environment (`JIMENG_CONFIG_DIR`, else the config store's folder; see EMULATOR_FOLDER).
 * Lines are appended 0600, never through a symlink at the file's name, after `redact` (the CLI's secret
 * scrubber).
 */
export function openTaskIndex(
  env: NodeJS.ProcessEnv,
  emulator = false,
  redact: (text: string) => string = (t) => t,
): TaskIndex {
  const path = taskIndexPath(env, emulator);
  return {
    path,
    async record(entry) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const handle = await openForAppend(path, "task list");
      try {
        await handle.appendFile(redact(`${JSON.stringify(entry)}\n`));
      } finally {
        await handle.close();
      }
    },
    async find(taskId, provider) {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      return findEntry(text, taskId, provider);
    },
  };
}
