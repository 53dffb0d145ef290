/**
 * Batch files → validated jobs. Formats by extension: `.jsonl` (one job object per line), `.json` (an array of
 * jobs, or `{ "defaults": {...}, "jobs": [...] }`), `.txt` (one prompt per line; blank lines and `#` comments
 * skipped). `.jsonl` and `.txt` are read line by line from a stream. Every problem in the file is collected
 * (as `file:line: field: message`) before the caller decides anything; nothing here sends a request.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ValidationError, type ValidationIssue } from "../errors.js";
import { issuesFromZod } from "../validation.js";
import {
  type BatchDefaults,
  type BatchJob,
  batchDefaultsSchema,
  batchJobSchema,
  isRemoteImage,
  JOB_FIELDS,
  toBatchJob,
  unknownFieldMessage,
} from "./job.js";
import { JsonSyntaxError, scanJson } from "./json-scan.js";
import { firstInvalidLine, NOT_UTF8, utf8Lines } from "./utf8-lines.js";

export type BatchFormat = "jsonl" | "json" | "txt";

/** One problem in a batch file. `line` is 0 for problems with the file as a whole. */
export interface BatchIssue {
  file: string;
  line: number;
  /** The job's id when the problem belongs to one job. */
  jobId?: string;
  /** Dotted field path (`images.0`, `defaults.ratio`), or "" for the whole job / file. */
  path: string;
  message: string;
}

export interface ValidateBatchOptions {
  /**
   * Extra checks for each job that passed the schema, e.g. against the chosen model's capability record.
   * Issue paths are field paths of the job (`duration`, `images.1`).
   */
  validateJob?: (job: BatchJob) => ValidationIssue[] | Promise<ValidationIssue[]>;
  /** Fields applied under every job (and under a `.json` file's own `defaults`), e.g. from CLI flags. */
  defaults?: BatchDefaults;
  /** Check that local image files exist and are files (default true). */
  checkImages?: boolean;
  /**
   * Keep the valid jobs in `jobs` (default true). False streams: memory stays flat in the number of jobs
   * (only ids are kept, for duplicates), and `onJob` sees each job instead.
   */
  keepJobs?: boolean;
  /** Each job that passed the schema and `validateJob`, in file order (a later duplicate id may still fail it). */
  onJob?: (job: BatchJob) => void | Promise<void>;
}

export interface BatchValidation {
  file: string;
  format: BatchFormat | undefined;
  /** The jobs that passed every check, in file order. Use them only when `ok`. */
  jobs: BatchJob[];
  /** Every problem, ordered by line. */
  issues: BatchIssue[];
  /** `issues` as `file:line: field: message` lines. */
  messages: string[];
  ok: boolean;
}

/** `file:line: field: message` (line and field left out when they do not apply). */
export function formatBatchIssue(issue: BatchIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** A batch file that failed validation; `batchIssues` has every problem, `message` lists them one a line. */
export class BatchValidationError extends ValidationError {
  override name = "BatchValidationError";
  readonly batchIssues: BatchIssue[];

  constructor(file: string, issues: BatchIssue[]) {
    const lines = issues.map(formatBatchIssue);
    const summary = `${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}; nothing was sent`;
    super(
      issues.map((issue) => ({
        path: issue.path ? `${issue.file}:${issue.line}: ${issue.path}` : `${issue.file}:${issue.line}`,
        message: issue.message,
      })),
      {
        message: `${summary}\n${lines.join("\n")}`,
        summary,
        hint: "fix the lines above and run again (`--dry-run` validates without sending)",
      },
    );
    this.batchIssues = issues;
  }
}

export function batchFormat(file: string): BatchFormat | undefined {
  const extension = path.extname(file).toLowerCase();
  if (extension === ".jsonl" || extension === ".ndjson") return "jsonl";
  if (extension === ".json") return "json";
  if (extension === ".txt") return "txt";
  return undefined;
}

/** Reads and validates a whole batch file, collecting every problem. Never throws for bad input. */
export async function validateBatch(
  file: string,
  options: ValidateBatchOptions = {},
): Promise<BatchValidation> {
  const format = batchFormat(file);
  const collector = new JobCollector(file, options);
  if (format === undefined) {
    collector.issue(0, "", `unsupported batch file type "${path.extname(file)}"; use .jsonl, .json or .txt`);
    return collector.finish(format);
  }
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error("not a file");
  } catch {
    collector.issue(0, "", "file not found or not readable");
    return collector.finish(format);
  }
  if (format === "json") await readJson(file, collector);
  else await readLines(file, format, collector);
  return collector.finish(format);
}

/** Validates jobs given in code (an SDK caller's array); `line` in issues is the job's index + 1. */
export async function validateJobs(
  jobs: readonly unknown[],
  options: ValidateBatchOptions & { file?: string } = {},
): Promise<BatchValidation> {
  const collector = new JobCollector(options.file ?? "<jobs>", options);
  for (const [index, job] of jobs.entries()) await collector.add(job, index + 1);
  return collector.finish(undefined);
}

/** validateBatch, throwing a BatchValidationError that lists every problem when there is any. */
export async function loadBatch(file: string, options: ValidateBatchOptions = {}): Promise<BatchJob[]> {
  const result = await validateBatch(file, options);
  if (!result.ok) throw new BatchValidationError(file, result.issues);
  return result.jobs;
}

async function readLines(file: string, format: "jsonl" | "txt", collector: JobCollector): Promise<void> {
  for await (const read of utf8Lines(file)) {
    const lineNumber = read.line;
    if ("invalid" in read) {
      collector.issue(lineNumber, "", `line ${NOT_UTF8}`);
      continue;
    }
    const text = read.text.trim();
    if (text === "") continue;
    if (format === "txt") {
      if (text.startsWith("#")) continue;
      await collector.add({ prompt: text }, lineNumber);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      collector.issue(lineNumber, "", `invalid JSON: ${(error as Error).message}`);
      continue;
    }
    await collector.add(value, lineNumber);
  }
}

async function readJson(file: string, collector: JobCollector): Promise<void> {
  let scanned: ReturnType<typeof scanJson>;
  try {
    const bytes = await readFile(file);
    const invalid = firstInvalidLine(bytes);
    if (invalid !== undefined) {
      collector.issue(invalid, "", `file ${NOT_UTF8}`);
      return;
    }
    scanned = scanJson(bytes.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    collector.issue(error.line, "", `invalid JSON: ${error.message} (column ${error.column})`);
    return;
  }
  const { value, elementLines, keyLines } = scanned;
  let jobs: unknown = value;
  if (isPlainObject(value)) {
    const keys = keyLines.get(value) ?? new Map<string, number>();
    for (const key of Object.keys(value)) {
      if (key !== "defaults" && key !== "jobs" && key !== "$schema") {
        collector.issue(keys.get(key) ?? 1, key, unknownFieldMessage(key, ["defaults", "jobs"]));
      }
    }
    if (value.defaults !== undefined) collector.setFileDefaults(value.defaults, keys.get("defaults") ?? 1);
    jobs = value.jobs;
    if (jobs === undefined) {
      collector.issue(1, "jobs", 'is required: { "defaults": {...}, "jobs": [...] }');
      return;
    }
    if (!Array.isArray(jobs)) {
      collector.issue(keys.get("jobs") ?? 1, "jobs", "must be an array of job objects");
      return;
    }
  } else if (!Array.isArray(jobs)) {
    collector.issue(1, "", 'expected an array of jobs or { "defaults": {...}, "jobs": [...] }');
    return;
  }
  const lines = elementLines.get(jobs) ?? [];
  for (const [index, job] of jobs.entries()) await collector.add(job, lines[index] ?? 1);
}

const KNOWN_FIELDS = new Set(JOB_FIELDS);
const DEFAULT_FIELDS = JOB_FIELDS.filter((field) => field !== "id");

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** Turns raw job values into validated jobs and issues; shared by every format. */
class JobCollector {
  private readonly jobs: BatchJob[] = [];
  private readonly issues: BatchIssue[] = [];
  /**
   * Each explicit id's first line; ids seen more than once also have every line in `duplicateLines`. Derived
   * ids (`line-N`) are unique by construction, so only their lines are marked (one byte each), which keeps a
   * million-line `.txt` file from holding a million strings; they can only clash with an explicit `line-N`.
   */
  private readonly idLines = new Map<string, number>();
  private derivedLines = new Uint8Array(1024);
  private readonly duplicateLines = new Map<string, number[]>();
  /** Whether each local image path is a file, checked once per path. */
  private readonly imageChecks = new Map<string, Promise<boolean>>();
  /** Fields whose default value was invalid and already reported once, at the defaults. */
  private readonly badDefaultFields = new Set<string>();
  private defaults: Record<string, unknown> = {};
  private hasDefaults = false;
  private sawJob = false;

  constructor(
    private readonly file: string,
    private readonly options: ValidateBatchOptions,
  ) {
    if (options.defaults !== undefined) this.mergeDefaults(options.defaults, 0);
  }

  issue(line: number, field: string, message: string, jobId?: string): void {
    const issue: BatchIssue = { file: this.file, line, path: field, message };
    if (jobId !== undefined) issue.jobId = jobId;
    this.issues.push(issue);
  }

  setFileDefaults(value: unknown, line: number): void {
    this.mergeDefaults(value, line);
  }

  private mergeDefaults(value: unknown, line: number): void {
    if (!isPlainObject(value)) {
      this.issue(line, "defaults", `must be an object of job fields, not ${describeType(value)}`);
      return;
    }
    const known: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (key === "id") this.issue(line, "defaults.id", "a default cannot set an id; ids are per job");
      else if (!KNOWN_FIELDS.has(key)) {
        this.issue(line, `defaults.${key}`, unknownFieldMessage(key, DEFAULT_FIELDS));
      } else known[key] = member;
    }
    const result = batchDefaultsSchema.safeParse(known);
    if (!result.success) {
      for (const issue of issuesFromZod(result.error, "defaults")) {
        this.issue(line, issue.path, issue.message);
        this.badDefaultFields.add(issue.path.split(".")[1] ?? "");
      }
    }
    this.defaults = { ...this.defaults, ...known };
    this.hasDefaults = true;
  }

  async add(raw: unknown, line: number): Promise<void> {
    this.sawJob = true;
    if (!isPlainObject(raw)) {
      this.issue(line, "", `a job must be a JSON object, not ${describeType(raw)}`);
      return;
    }
    let own: Record<string, unknown> = raw;
    for (const key of Object.keys(raw)) {
      if (KNOWN_FIELDS.has(key)) continue;
      if (own === raw) own = { ...raw };
      delete own[key];
      this.issue(line, key, unknownFieldMessage(key, JOB_FIELDS), this.rawId(raw, line));
    }
    const merged = this.hasDefaults ? { ...this.defaults, ...own } : own;
    const result = batchJobSchema.safeParse(merged);
    const id = result.success ? (result.data.id ?? `line-${line}`) : this.rawId(raw, line);
    const derived = result.success ? result.data.id === undefined : raw.id === undefined;
    if (derived) this.markDerived(line);
    else if (id !== undefined) {
      const first = this.idLines.get(id);
      if (first === undefined) this.idLines.set(id, line);
      else {
        const lines = this.duplicateLines.get(id);
        if (lines === undefined) this.duplicateLines.set(id, [first, line]);
        else lines.push(line);
      }
    }
    if (!result.success) {
      for (const issue of issuesFromZod(result.error)) {
        const field = issue.path.split(".")[0] ?? "";
        // An invalid default was reported once at the defaults, not again at every job that inherits it.
        if (!(field in own) && this.badDefaultFields.has(field)) continue;
        this.issue(line, issue.path, issue.message, id);
      }
      return;
    }
    const job = toBatchJob(result.data, { file: this.file, line });
    const before = this.issues.length;
    if (this.options.checkImages ?? true) await this.checkImages(job);
    if (this.options.validateJob !== undefined) {
      for (const issue of await this.options.validateJob(job)) {
        this.issue(job.source.line, issue.path, issue.message, job.id);
      }
    }
    if (this.issues.length > before) return;
    await this.options.onJob?.(job);
    if (this.options.keepJobs ?? true) this.jobs.push(job);
  }

  private markDerived(line: number): void {
    if (line >= this.derivedLines.length) {
      const grown = new Uint8Array(Math.max(line + 1, this.derivedLines.length * 2));
      grown.set(this.derivedLines);
      this.derivedLines = grown;
    }
    this.derivedLines[line] = 1;
  }

  /** An explicit `line-N` id that clashes with the derived id of the job on line N. */
  private clashesWithDerived(id: string): number | undefined {
    const match = /^line-(\d+)$/.exec(id);
    const line = match ? Number(match[1]) : Number.NaN;
    return line < this.derivedLines.length && this.derivedLines[line] === 1 ? line : undefined;
  }

  /** The job's id as the schema will read it, or the line-derived one; undefined when `id` itself is bad. */
  private rawId(raw: Record<string, unknown>, line: number): string | undefined {
    if (raw.id === undefined) return `line-${line}`;
    const parsed = batchJobSchema.shape.id.safeParse(raw.id);
    return parsed.success ? parsed.data : undefined;
  }

  async finish(format: BatchFormat | undefined): Promise<BatchValidation> {
    if (format !== undefined && !this.sawJob && this.issues.length === 0) {
      this.issue(0, "", "no jobs found");
    }
    for (const [id, first] of this.idLines) {
      const derivedLine = this.clashesWithDerived(id);
      if (derivedLine === undefined) continue;
      const lines = this.duplicateLines.get(id) ?? [first];
      this.duplicateLines.set(
        id,
        [...lines, derivedLine].sort((a, b) => a - b),
      );
    }
    for (const [id, lines] of this.duplicateLines) {
      for (const line of lines) {
        const others = lines.filter((other) => other !== line);
        this.issue(
          line,
          "id",
          `duplicate id "${id}" (also on line${others.length === 1 ? "" : "s"} ${others.join(", ")})`,
          id,
        );
      }
    }
    const issues = this.issues
      .map((issue, order) => ({ issue, order }))
      .sort((a, b) => a.issue.line - b.issue.line || a.order - b.order)
      .map(({ issue }) => issue);
    const badLines = new Set(issues.map((issue) => issue.line));
    return {
      file: this.file,
      format,
      jobs: this.jobs.filter((job) => !badLines.has(job.source.line)),
      issues,
      messages: issues.map(formatBatchIssue),
      ok: issues.length === 0,
    };
  }

  private async checkImages(job: BatchJob): Promise<void> {
    for (const [index, image] of (job.images ?? []).entries()) {
      if (isRemoteImage(image)) continue;
      let check = this.imageChecks.get(image);
      if (check === undefined) {
        check = stat(image).then(
          (info) => info.isFile(),
          () => false,
        );
        this.imageChecks.set(image, check);
      }
      if (await check) continue;
      const written = path.relative(path.dirname(path.resolve(this.file)), image) || image;
      this.issue(job.source.line, `images.${index}`, `no such image file: ${written}`, job.id);
    }
  }
}
