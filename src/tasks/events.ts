/**
 * What the task engine reports while it works. The SDK never prints: a caller passes `onEvent` to one call
 * and decides how to show progress (the CLI's spinners and bars, a batch journal, a log).
 */
import type { JimengError } from "../errors.js";
import type { TaskRef, TaskState, TaskStatus } from "../providers/types.js";

export type TaskEvent =
  /** The provider accepted the task; `ref.taskId` identifies it from now on. Fires before any waiting. */
  | { type: "submitted"; ref: TaskRef }
  /** One successful poll. `poll` counts every poll of this wait, failed ones included. */
  | { type: "status"; ref: TaskRef; status: TaskStatus; poll: number; elapsedMs: number }
  /**
   * A poll failed in a way worth retrying (network, throttling, a retryable server error); the wait goes on
   * after `delayMs`. `attempt` counts consecutive failures.
   */
  | { type: "retry"; ref: TaskRef; attempt: number; delayMs: number; error: JimengError }
  /** The task answered more outputs than it can have produced (`count`, or the kind's maximum): `ignored` were dropped. */
  | { type: "ignored"; ref: TaskRef; kept: number; ignored: number }
  /** Download progress of output `index`: `bytes` written so far, of `total` when the server said. */
  | { type: "download"; ref: TaskRef; index: number; bytes: number; total?: number }
  /** The call is about to resolve successfully (after downloads, when there were any). */
  | { type: "done"; ref: TaskRef; status: TaskState; polls: number; files: number };

export type TaskEventType = TaskEvent["type"];
export type OnTaskEvent = (event: TaskEvent) => void;
