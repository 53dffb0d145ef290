/**
 * MCP progress notifications for one tool call: every task event (submitted, each poll's status with the
 * elapsed time, retries, downloads) becomes a `notifications/progress` message when the client sent a
 * progress token. `progress` counts the events, so it always increases; the message says what is going on.
 */
import type { TaskEvent } from "../tasks/events.js";

export interface ProgressMessage {
  progress: number;
  message: string;
}

/** Pure: the message for one event, or undefined for events not worth a notification. */
export function progressMessage(event: TaskEvent, startedAt: number, now: number): string | undefined {
  const seconds = ((now - startedAt) / 1000).toFixed(1);
  switch (event.type) {
    case "submitted":
      return `submitted task ${event.ref.taskId} (${event.ref.provider} · ${event.ref.model})`;
    case "status":
      return `${event.status.status} after ${seconds} s (poll ${event.poll})`;
    case "retry":
      return `poll failed (${event.error.code}); trying again in ${Math.round(event.delayMs)} ms`;
    case "download":
      return event.total !== undefined && event.bytes >= event.total
        ? `saved output ${event.index + 1} (${event.bytes} bytes)`
        : undefined;
    case "done":
      return `done after ${seconds} s`;
  }
}

export type SendProgress = (message: ProgressMessage) => Promise<void>;

/** An `onEvent` for the task engine that forwards events as progress; notification failures are ignored. */
export function progressReporter(send: SendProgress | undefined, clock: () => number = Date.now) {
  const startedAt = clock();
  let count = 0;
  return (event: TaskEvent): void => {
    if (!send) return;
    const message = progressMessage(event, startedAt, clock());
    if (message === undefined) return;
    count++;
    send({ progress: count, message }).catch(() => undefined);
  };
}
