/**
 * The batch report, written as the run goes: each job's entry is appended, in job order, to
 * `<out>/.jimeng/report-jobs.jsonl` as soon as it and every job before it have finished (a job that finishes
 * early waits in a buffer for the ones before it), and the counts are kept as it goes. `report.json` is
 * assembled from that file at the end, so the report of a million jobs never sits in memory.
 */
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { openForAppend, writeFileSafely } from "../fs/safe-write.js";
import { JOURNAL_DIR } from "./journal.js";
import { type BatchReport, type BatchReportJob, isFailed, iso, isSucceeded } from "./report.js";

export const REPORT_SPOOL_FILE = "report-jobs.jsonl";
/** Spooled text written at once. */
const WRITE_AT = 64 * 1024;

/** What the report says besides its entries. */
export interface ReportSummary {
  interrupted: boolean;
  superseded?: BatchReport["superseded"];
  startedAt: Date | string;
  finishedAt: Date | string;
}

export interface ReportWriterOptions {
  /** Applied to every spooled line and every chunk of `report.json`. */
  redact?: (text: string) => string;
  /** Also keep every entry in memory, for `report().jobs` (default false). */
  retain?: boolean;
}

export class ReportWriter {
  private total = 0;
  private succeeded = 0;
  private failed = 0;
  /** Finished entries waiting for a job before them to finish, by position. */
  private readonly early = new Map<number, BatchReportJob>();
  private next = 0;
  private text = "";
  private writing: Promise<void> = Promise.resolve();
  private readonly retained: BatchReportJob[] | undefined;
  private readonly redact: (text: string) => string;

  private constructor(
    readonly spoolFile: string,
    private handle: FileHandle | undefined,
    options: ReportWriterOptions,
  ) {
    this.redact = options.redact ?? ((text) => text);
    this.retained = options.retain ? [] : undefined;
  }

  /** Starts `<out>/.jimeng/report-jobs.jsonl` afresh (the journal folder must exist). */
  static async open(out: string, options: ReportWriterOptions = {}): Promise<ReportWriter> {
    const file = path.join(out, JOURNAL_DIR, REPORT_SPOOL_FILE);
    await rm(file, { force: true });
    return new ReportWriter(file, await openForAppend(file, "report"), options);
  }

  /** Entries written so far: every job before position `written` has finished. */
  get written(): number {
    return this.next;
  }

  /** The entry of the job at `position` (0-based, in job order); resolves when the spool took what it could. */
  add(position: number, entry: BatchReportJob): Promise<void> {
    this.early.set(position, entry);
    for (let ready = this.early.get(this.next); ready !== undefined; ready = this.early.get(this.next)) {
      this.early.delete(this.next);
      this.next++;
      this.total++;
      if (isSucceeded(ready)) this.succeeded++;
      else if (isFailed(ready)) this.failed++;
      this.retained?.push(ready);
      this.text += `${this.redact(JSON.stringify(ready))}\n`;
    }
    return this.text.length >= WRITE_AT ? this.flush() : this.writing;
  }

  /** Writes what is spooled and closes the file (idempotent). */
  async close(): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) return;
    try {
      await this.flush();
    } finally {
      this.handle = undefined;
      await handle.close();
    }
  }

  /** The report's document: counts, and the entries only when retained. */
  report(summary: ReportSummary): BatchReport {
    const report: BatchReport = {
      total: this.total,
      succeeded: this.succeeded,
      failed: this.failed,
      interrupted: summary.interrupted,
      jobs: this.retained ?? [],
      startedAt: iso(summary.startedAt),
      finishedAt: iso(summary.finishedAt),
    };
    if (summary.superseded !== undefined) report.superseded = summary.superseded;
    return report;
  }

  /**
   * The whole report as JSON text, entries read back from the spool (after `close`): the same text as
   * `JSON.stringify(report, null, indent)` of the report with every entry.
   */
  async *chunks(summary: ReportSummary, indent?: number): AsyncGenerator<string> {
    // The document without entries, in the report's own key order; the entries go between the brackets.
    const empty = JSON.stringify({ ...this.report(summary), jobs: [] }, null, indent);
    const marker = indent ? '"jobs": []' : '"jobs":[]';
    const at = empty.indexOf(marker) + marker.length - 1;
    const pad = indent ? `\n${" ".repeat(indent * 2)}` : "";
    let text = empty.slice(0, at);
    let first = true;
    const lines = createInterface({ input: createReadStream(this.spoolFile, "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === "") continue;
      const entry = JSON.stringify(JSON.parse(line), null, indent);
      text += `${first ? "" : ","}${pad}${indent ? entry.replaceAll("\n", pad) : entry}`;
      first = false;
      if (text.length >= WRITE_AT) {
        yield this.redact(text);
        text = "";
      }
    }
    if (!first && indent) text += `\n${" ".repeat(indent)}`;
    yield this.redact(text + empty.slice(at));
  }

  /** Writes `report.json` (pretty, as a whole: readers never see half of it). */
  writeFile(file: string, summary: ReportSummary): Promise<void> {
    const chunks = this.chunks(summary, 2);
    return writeFileSafely(
      file,
      (async function* () {
        yield* chunks;
        yield "\n";
      })(),
      { what: "report" },
    );
  }

  private flush(): Promise<void> {
    const text = this.text;
    this.text = "";
    const handle = this.handle;
    if (text !== "" && handle !== undefined) {
      this.writing = this.writing.then(async () => {
        await handle.write(text);
      });
    }
    return this.writing;
  }
}
