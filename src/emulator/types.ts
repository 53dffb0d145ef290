/**
 * The contract between the emulator's core (server, task clock, outputs, faults, counters) and its API
 * halves (visual-routes.ts, session-routes.ts, ark-routes.ts). A half is a pure-ish function from a request to a reply;
 * the core owns sockets, timing and bytes.
 */
import type { ProviderName } from "../errors.js";

export interface EmulatorRequest {
  method: string;
  url: URL;
  /** Lower-cased names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export type EmulatorReply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; body: Buffer | string; contentType: string; headers?: Record<string, string> }
  /** Server-sent events: each chunk is written as it is produced (Ark's streamed image answers). */
  | { status: number; stream: AsyncIterable<string>; contentType: string; headers?: Record<string, string> }
  /** Drop the connection without answering (a connection reset). */
  | { reset: true };

export type TaskPhase = "queued" | "running" | "succeeded" | "failed";

export interface EmulatorOutput {
  /** Absolute URL the emulator serves the file at. */
  url: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

export interface EmulatorTask {
  id: string;
  provider: ProviderName;
  model: string;
  output: "image" | "video";
  prompt: string;
  outputCount: number;
  /** Set when the task will fail (fault injection or a prompt marker); the half renders it its own way. */
  failCode?: string | number;
  createdAt: number;
  /** When it leaves the queue and when it finishes, on the emulator clock (ms). */
  startsAt: number;
  finishesAt: number;
  /** Anything the half wants to remember (e.g. req_key, query style). */
  meta: Record<string, unknown>;
}

export type FaultKind = "server-error" | "throttle-qps" | "throttle-concurrency" | "reset" | "garbage";

/** What a misbehaving proxy in front of the API answers with HTTP 200 (the `garbage` fault). */
export const GARBAGE_REPLY = {
  status: 200,
  body: "<html>502 Bad Gateway</html>",
  contentType: "text/html",
} as const;
export type Operation = "submit" | "poll" | "download";

export interface NewTask {
  provider: ProviderName;
  model: string;
  output: "image" | "video";
  prompt: string;
  outputCount: number;
  meta?: Record<string, unknown>;
}

/** What a half can ask of the core. */
export interface EmulatorCore {
  readonly baseUrl: string;
  readonly credentials: EmulatorCredentials;
  now(): number;
  /** Decides (from the configured rates and caps) whether this operation fails; counts it either way. */
  fault(operation: Operation, provider: ProviderName): FaultKind | undefined;
  createTask(input: NewTask): EmulatorTask;
  getTask(id: string): EmulatorTask | undefined;
  phase(task: EmulatorTask): TaskPhase;
  /** The task's outputs (generated on first use, deterministic per task id). Only for succeeded tasks. */
  outputs(task: EmulatorTask): EmulatorOutput[];
  /** The raw bytes of output `index`, for base64 answers. */
  outputBytes(task: EmulatorTask, index: number): Buffer;
  countPoll(task: EmulatorTask): void;
  /** Resolves when the task has finished (succeeded or failed): the blocking session routes wait on it. */
  waitUntilFinished(task: EmulatorTask): Promise<void>;
  /** Resolves after `ms` of emulator time (real time divided by the time scale). */
  waitFor(ms: number): Promise<void>;
  /** Records a change to `task.meta` (a cancel, a deletion) so that it outlives the process like the task. */
  save(task: EmulatorTask): void;
  /** Every task of `provider`, oldest first (Ark's task list and per-account queue cap). */
  tasksOf(provider: ProviderName): EmulatorTask[];
  readonly options: EmulatorBehaviour;
}

/** Knobs a half reads. */
export interface EmulatorBehaviour {
  /** Which async query routes the session half serves. */
  sessionQueryStyle: "generic" | "split" | "both";
  /** Ark: the most video tasks an account may have queued before creates are refused (429). */
  arkQueuedTaskCap: number;
}

export interface EmulatorCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionId: string;
  /** The Bearer key of the Ark half. */
  arkApiKey: string;
}

/** Returns undefined for requests that are not its own. May be async (the blocking session routes are). */
export type RouteHandler = (
  request: EmulatorRequest,
  core: EmulatorCore,
) => EmulatorReply | undefined | Promise<EmulatorReply | undefined>;
