/**
 * How `jimeng batch` shows progress. On a TTY: one cli-progress MultiBar on stderr with an overall bar
 * (done / failed / running, ETA) and one line per running job, removed when the job ends. Without a TTY:
 * one plain line per transition on stderr, through the Output (so secrets are scrubbed). `--quiet`: nothing.
 */
import type { BatchEvent } from "../batch/runner.js";
import { failureText, type Output } from "./output.js";

export interface BatchProgress {
  onEvent(event: BatchEvent): void;
  /** A warning: above the bars on a TTY (a line written past them would be drawn over), else a line. */
  warn(text: string): void;
  /** Draws the current state now (bars otherwise redraw up to 10 times a second). */
  render(): void;
  /** Draws the final state and removes the job lines; call before printing the summary. */
  stop(): void;
}

interface Counts {
  total: number;
  done: number;
  failed: number;
  running: number;
}

type MultiBar = import("cli-progress").MultiBar;
type SingleBar = import("cli-progress").SingleBar;

/** The progress display for the output's mode; loads cli-progress only on a TTY. */
export async function createBatchProgress(output: Output): Promise<BatchProgress> {
  if (output.mode.quiet) return { onEvent() {}, warn: (text) => output.warn(text), render() {}, stop() {} };
  if (!output.mode.interactive) return new LineProgress(output);
  const { default: cliProgress } = await import("cli-progress");
  const multibar = new cliProgress.MultiBar(
    {
      stream: output.io.stderr as NodeJS.WritableStream,
      // Line wrapping is off while the bars show: a longer line would pile up in the last column.
      format: (options, params, payload: Record<string, string>) =>
        fitWidth(barLine(options, params, payload), params.maxWidth - 1),
      hideCursor: true,
      // A bar redraws only when its text changed, but a line logged above moves every bar down a row: without
      // this, rows whose text stayed the same keep what was drawn there before (stale and repeated rows).
      forceRedraw: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  return new BarProgress(output, multibar);
}

type BarOptions = import("cli-progress").Options;
type BarParams = import("cli-progress").Params;

function barLine(options: BarOptions, params: BarParams, payload: Record<string, string>): string {
  if (payload.kind === "job") return `  ${payload.text ?? ""}`;
  const eta =
    Number.isFinite(params.eta) && params.eta > 0 && params.progress < 1
      ? ` · ETA ${formatEta(params.eta)}`
      : "";
  const text = `${payload.text ?? ""}${eta}`;
  // A narrow terminal gets a shorter bar before the counts are cut.
  const room = params.maxWidth - 2 - [...text].length;
  const size = Math.max(5, Math.min(options.barsize ?? 30, room));
  const filled = Math.round(params.progress * size);
  return `${"█".repeat(filled)}${"░".repeat(size - filled)} ${text}`;
}

/** Pure: `line` cut to `width` characters, the last one an ellipsis when it was cut. */
export function fitWidth(line: string, width: number): string {
  const chars = [...line];
  if (chars.length <= width) return line;
  return `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

function summary(counts: Counts): string {
  return `${counts.done}/${counts.total} done · ${counts.failed} failed · ${counts.running} running`;
}

/** Shared bookkeeping: counts of finished, failed and running jobs, from the runner's events. */
function track(counts: Counts, event: BatchEvent): void {
  switch (event.type) {
    case "plan":
      counts.total = event.total;
      break;
    case "skip":
      counts.done++;
      if (event.reason !== "succeeded") counts.failed++;
      break;
    case "start":
      counts.running++;
      break;
    case "end":
      counts.running = Math.max(0, counts.running - 1);
      counts.done++;
      if (event.status !== "succeeded") counts.failed++;
      break;
    default:
      break;
  }
}

function planLine(event: Extract<BatchEvent, { type: "plan" }>): string {
  const { counts } = event.plan;
  const parts = [`${event.total} job${event.total === 1 ? "" : "s"}: ${counts.submit} to submit`];
  if (counts.poll) parts.push(`${counts.poll} to poll (submitted before)`);
  if (counts.skip) parts.push(`${counts.skip} skipped`);
  return parts.join(", ");
}

function uncertainLine(event: Extract<BatchEvent, { type: "plan" }>): string | undefined {
  const ids = event.plan.uncertain;
  if (ids.length === 0) return undefined;
  const resubmitted = event.plan.uncertainAction === "submit";
  const list = ids.slice(0, 5).join(", ") + (ids.length > 5 ? `, … (${ids.length})` : "");
  return resubmitted
    ? `${ids.length} job(s) were being submitted when the last run stopped (${list}); submitting them again — if the lost submit did land, it is charged twice (--no-resubmit-uncertain skips them)`
    : `${ids.length} job(s) were being submitted when the last run stopped (${list}); skipped (--no-resubmit-uncertain)`;
}

function errorText(error: { code: string | number; message: string } | undefined): string {
  return error ? failureText(error) : "unknown error";
}

class LineProgress implements BatchProgress {
  private readonly counts: Counts = { total: 0, done: 0, failed: 0, running: 0 };

  constructor(private readonly out: Output) {}

  private line(symbol: string, text: string): void {
    this.out.info(`${symbol} ${text}`);
  }

  private at(): string {
    return `[${this.counts.done}/${this.counts.total}]`;
  }

  onEvent(event: BatchEvent): void {
    track(this.counts, event);
    const style = this.out.errStyle;
    switch (event.type) {
      case "plan": {
        this.line(style.cyan("•"), planLine(event));
        const uncertain = uncertainLine(event);
        if (uncertain) this.out.warn(uncertain);
        if (event.archivedJournal)
          this.line(style.cyan("ℹ"), `earlier journal kept as ${event.archivedJournal}`);
        break;
      }
      case "start":
        if (event.action === "poll") this.line(style.cyan("•"), `${event.job.id}: polling its earlier task`);
        break;
      case "submitted":
        this.line(style.cyan("•"), `${event.job.id}: submitted (task ${event.ref.taskId})`);
        break;
      case "retry":
        this.line(
          style.yellow("↻"),
          `${event.job.id}: ${event.phase} failed (${errorText(event.error)}); retry ${event.attempt} in ${(event.delayMs / 1000).toFixed(1)}s`,
        );
        break;
      case "throttled":
        this.out.warn(
          `the provider is throttling; concurrency lowered from ${event.from} to ${event.to} for now`,
        );
        break;
      case "end":
        if (event.status === "succeeded") {
          const files = event.files.map((file) => file.file).join(", ");
          this.line(style.green("✔"), `${this.at()} ${event.job.id}: succeeded → ${files}`);
        } else {
          this.line(
            style.red("✖"),
            `${this.at()} ${event.job.id}: ${event.status}: ${errorText(event.error)}`,
          );
        }
        break;
      case "skip":
        this.line(style.dim("–"), `${this.at()} ${event.job.id}: skipped (${event.reason})`);
        break;
      case "interrupted":
        this.out.warn(
          "interrupted: no more submits; waiting for submits in flight to be recorded (Ctrl-C again to quit now)",
        );
        break;
      default:
        break;
    }
  }

  warn(text: string): void {
    this.out.warn(text);
  }

  render(): void {}

  stop(): void {}
}

/** Pure: `text` in rows of at most `width` characters, broken at spaces where it can be (the space dropped). */
export function wrapRows(text: string, width: number): string[] {
  const rows: string[] = [];
  let rest = [...text];
  while (rest.length > width) {
    const space = rest.lastIndexOf(" ", width);
    const cut = space > 0 ? space : width;
    rows.push(rest.slice(0, cut).join(""));
    rest = rest.slice(space > 0 ? cut + 1 : cut);
  }
  rows.push(rest.join(""));
  return rows;
}

const CLEAR_TO_END_OF_LINE = "\u001b[K";

const PHASES: Record<string, string> = {
  submit: "submitting",
  submitted: "submitted",
  poll: "polling",
  queued: "queued",
  running: "running",
  download: "downloading",
};

class BarProgress implements BatchProgress {
  private readonly counts: Counts = { total: 0, done: 0, failed: 0, running: 0 };
  private readonly overall: SingleBar;
  private readonly jobs = new Map<
    string,
    { bar: SingleBar; phase: string; started: number; taskId?: string }
  >();
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly out: Output,
    private readonly multibar: MultiBar,
  ) {
    this.overall = multibar.create(1, 0, { kind: "overall", text: "planning…" });
    // Elapsed times on the job lines move even when no event arrives.
    this.ticker = setInterval(() => this.refresh(), 1000);
    this.ticker.unref();
  }

  /**
   * A line above the bars. The bars turn the terminal's line wrapping off, so a long line would be cut at the
   * terminal's width: it is broken into rows that fit instead.
   */
  private log(text: string): void {
    const columns = this.out.io.stderr.columns;
    const width = Math.max(20, (typeof columns === "number" && columns > 0 ? columns : 80) - 1);
    const rows = wrapRows(this.out.scrub(text), width);
    // Each row clears what an earlier bar left on its line (only the first line is cleared for it).
    for (const row of rows) this.multibar.log(`${row}${CLEAR_TO_END_OF_LINE}\n`);
  }

  private setPhase(id: string, phase: string): void {
    const entry = this.jobs.get(id);
    if (!entry) return;
    entry.phase = phase;
    this.drawJob(id);
  }

  private drawJob(id: string): void {
    const entry = this.jobs.get(id);
    if (!entry) return;
    const seconds = Math.round((Date.now() - entry.started) / 1000);
    const task = entry.taskId ? `  task ${entry.taskId}` : "";
    entry.bar.update(0, {
      kind: "job",
      text: this.out.scrub(`${id}  ${PHASES[entry.phase] ?? entry.phase}${task}  ${seconds}s`),
    });
  }

  private refresh(): void {
    for (const id of this.jobs.keys()) this.drawJob(id);
  }

  private updateOverall(): void {
    this.overall.setTotal(Math.max(1, this.counts.total));
    this.overall.update(this.counts.done, { kind: "overall", text: summary(this.counts) });
  }

  onEvent(event: BatchEvent): void {
    track(this.counts, event);
    switch (event.type) {
      case "plan": {
        this.log(planLine(event));
        const uncertain = uncertainLine(event);
        if (uncertain) this.log(`warning: ${uncertain}`);
        break;
      }
      case "start": {
        const bar = this.multibar.create(1, 0, { kind: "job", text: "" });
        this.jobs.set(event.job.id, { bar, phase: event.action, started: Date.now() });
        this.drawJob(event.job.id);
        break;
      }
      case "submitted": {
        // The journal has the id now: the row says so, and shows it, until the first poll says more.
        const entry = this.jobs.get(event.job.id);
        if (entry) entry.taskId = event.ref.taskId;
        this.setPhase(event.job.id, "submitted");
        break;
      }
      case "status": {
        const entry = this.jobs.get(event.job.id);
        if (entry) entry.taskId = event.ref.taskId;
        this.setPhase(event.job.id, event.status);
        break;
      }
      case "download":
        this.setPhase(event.job.id, "download");
        break;
      case "throttled":
        this.log(
          `warning: the provider is throttling; concurrency lowered from ${event.from} to ${event.to} for now`,
        );
        break;
      case "end": {
        const entry = this.jobs.get(event.job.id);
        if (entry) this.multibar.remove(entry.bar);
        this.jobs.delete(event.job.id);
        if (event.status !== "succeeded")
          this.log(`✖ ${event.job.id}: ${event.status}: ${errorText(event.error)}`);
        break;
      }
      case "interrupted":
        this.log("interrupted: no more submits; recording the submits in flight (Ctrl-C again to quit now)");
        break;
      default:
        break;
    }
    this.updateOverall();
  }

  warn(text: string): void {
    this.log(`warning: ${text}`);
  }

  render(): void {
    this.multibar.update();
  }

  stop(): void {
    clearInterval(this.ticker);
    this.render();
    for (const { bar } of this.jobs.values()) this.multibar.remove(bar);
    this.jobs.clear();
    this.multibar.stop();
  }
}
