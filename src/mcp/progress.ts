/**
 * MCP progress notifications for one tool call: task events (submitted, each poll's status with the elapsed
 * time, retries, the start of the downloads) become `notifications/progress` messages when the client sent a
 * progress token. `progress` counts them, so it always increases; the message says what is going on.
 *
 * Nothing is sent for the end of the call: the result says it. A notification written just before the result
 * can reach the official TypeScript client after it (it handles notifications a microtask later than
 * responses) and is then reported as an error for an unknown token (modelcontextprotocol/typescript-sdk#2580).
 */
import type { OnTaskEvent, TaskEvent } from "../tasks/events.js";

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
      return `downloading after ${seconds} s`;
    case "done":
      return undefined;
  }
}

export type SendProgress = (message: ProgressMessage) => Promise<void>;

export interface ProgressReporter {
  onEvent: OnTaskEvent;
  /**
   * Resolves once every notification sent so far is written. A tool awaits it before returning, so that its
   * result never overtakes its last progress notifications (a client drops those that arrive after the result).
   */
  flush(): Promise<void>;
}

/** Forwards task events as progress, in order; notification failures are ignored. */
export function progressReporter(
  send: SendProgress | undefined,
  clock: () => number = Date.now,
): ProgressReporter {
  const startedAt = clock();
  let count = 0;
  let downloading = false;
  let chain = Promise.resolve();
  return {
    onEvent: (event) => {
      if (!send) return;
      // One notification when the downloads start; the files themselves come in the result.
      if (event.type === "download" && downloading) return;
      if (event.type === "download") downloading = true;
      const message = progressMessage(event, startedAt, clock());
      if (message === undefined) return;
      count++;
      const next = { progress: count, message };
      chain = chain.then(() => send(next)).catch(() => undefined);
    },
    flush: () => chain,
  };
}
