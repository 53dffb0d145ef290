/**
 * One task's phases on stderr: submitting → submitted (always a line, with the id) → queued → running 12 s →
 * downloading 2/4 → saved. A spinner on a TTY, a plain line per change of phase elsewhere.
 */
import { formatBytes } from "../bytes.js";
import type { TaskRef, TaskStatus } from "../providers/types.js";
import type { TaskEvent } from "../tasks/events.js";
import type { Output } from "./output.js";
import { safeText } from "./terminal-text.js";

const DOWNLOAD_LINE_EVERY_MS = 10_000;

function secondsText(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))} s`;
}

/**
 * Shows one task's phases: submitting → submitted (always a line, with the id) → queued → running 12 s →
 * downloading 2/4 → saved. On a TTY a spinner updates in place (and the elapsed time ticks); without one, a
 * plain line per change of phase.
 */
export class TaskProgress {
  readonly #output: Output;
  #ref: TaskRef | undefined;
  #state: string | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #downloads = new Map<number, { bytes: number; total?: number }>();
  #downloadCount = 0;
  #lastDownloadText = "";
  #lastDownloadLine = 0;
  /** Every poll of the wait, failed ones included. */
  polls = 0;
  last: TaskStatus | undefined;

  constructor(output: Output) {
    this.#output = output;
  }

  get interactive(): boolean {
    return this.#output.mode.interactive;
  }

  submitting(): void {
    this.#output.progress.phase("submitting");
  }

  submitted(ref: TaskRef): void {
    if (this.#ref?.taskId === ref.taskId) return;
    this.#ref = ref;
    this.#output.progress.info(
      `submitted task ${safeText(ref.taskId, 200)} (${ref.provider} · ${safeText(ref.model, 200)})`,
    );
    this.#show("queued");
  }

  /** For `result`: a task picked up by id. */
  resume(ref: TaskRef): void {
    this.#ref = ref;
    this.#output.progress.phase(`checking task ${safeText(ref.taskId, 200)}`);
  }

  expectDownloads(count: number): void {
    this.#downloadCount = count;
  }

  readonly onEvent = (event: TaskEvent): void => {
    switch (event.type) {
      case "submitted":
        this.submitted(event.ref);
        break;
      case "status":
        this.polls = event.poll;
        this.last = event.status;
        this.#output.verbose(
          `poll ${event.poll}: ${event.status.status}${event.status.requestId ? ` (request id ${safeText(event.status.requestId, 200)})` : ""}`,
        );
        if (event.status.status === "queued" || event.status.status === "running")
          this.#show(event.status.status);
        if (event.status.status === "succeeded") this.#downloadCount = event.status.outputs.length;
        break;
      case "retry":
        this.polls++;
        this.#output.verbose(
          `poll failed (${safeText(String(event.error.code), 100)}); trying again in ${Math.round(event.delayMs)} ms: ${safeText(event.error.message, 2000)}`,
        );
        break;
      case "download":
        this.#download(event.index, event.bytes, event.total);
        break;
      case "ignored":
        this.#downloadCount = event.kept;
        this.#output.warn(
          `the task answered ${event.kept + event.ignored} outputs; kept ${event.kept} (what it can have made) and ignored the rest`,
        );
        break;
      case "done":
        this.polls = Math.max(this.polls, event.polls);
        break;
    }
  };

  #show(state: string): void {
    const changed = state !== this.#state;
    this.#state = state;
    if (this.interactive) {
      this.#render();
      if (!this.#ticker) {
        this.#ticker = setInterval(() => this.#render(), 1000);
        this.#ticker.unref();
      }
    } else if (changed) {
      this.#output.progress.phase(state);
    }
  }

  #render(): void {
    if (!this.#state) return;
    const since = this.#ref ? Date.parse(this.#ref.submittedAt) : Number.NaN;
    const elapsed = Number.isFinite(since) ? ` ${secondsText(Date.now() - since)}` : "";
    this.#output.progress.phase(`${this.#state}${elapsed}`);
  }

  #download(index: number, bytes: number, total?: number): void {
    this.#stopTicker();
    this.#state = "downloading";
    this.#downloads.set(index, total === undefined ? { bytes } : { bytes, total });
    const done = [...this.#downloads.values()].filter(
      (d) => d.total !== undefined && d.bytes >= d.total,
    ).length;
    const count = Math.max(this.#downloadCount, this.#downloads.size);
    const received = [...this.#downloads.values()].reduce((sum, d) => sum + d.bytes, 0);
    let text: string;
    if (this.interactive) {
      text = `downloading ${done}/${count} · ${formatBytes(received)}`;
    } else {
      // Plain lines: one when downloads start, then one every 10 s while a long download goes on.
      text = `downloading ${count} file${count === 1 ? "" : "s"}`;
      const now = Date.now();
      if (text === this.#lastDownloadText && now - this.#lastDownloadLine >= DOWNLOAD_LINE_EVERY_MS) {
        this.#lastDownloadLine = now;
        this.#output.progress.info(`downloaded ${formatBytes(received)} so far (${done}/${count} done)`);
        return;
      }
      if (text !== this.#lastDownloadText) this.#lastDownloadLine = now;
    }
    if (text === this.#lastDownloadText) return;
    this.#lastDownloadText = text;
    this.#output.progress.phase(text);
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  succeed(text: string): void {
    this.#stopTicker();
    this.#output.progress.succeed(text);
  }

  fail(text: string): void {
    this.#stopTicker();
    this.#output.progress.fail(text);
  }

  stop(): void {
    this.#stopTicker();
    this.#output.progress.stop();
  }
}
