import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ProviderName } from "../errors.js";
import { type FaultOptions, FaultPlan } from "./faults.js";
import { tinyMp4 } from "./mp4.js";
import { proceduralPng } from "./png.js";
import { seededRandom } from "./random.js";
import type {
  EmulatorBehaviour,
  EmulatorCore,
  EmulatorCredentials,
  EmulatorOutput,
  EmulatorTask,
  FaultKind,
  NewTask,
  Operation,
  TaskPhase,
} from "./types.js";

/** A generation time in emulator milliseconds: fixed, or drawn uniformly from [min, max]. */
export type DurationSpec = number | readonly [number, number];

export interface EmulatorCoreOptions {
  credentials?: Partial<EmulatorCredentials>;
  durations?: { image?: DurationSpec; video?: DurationSpec };
  /** Share of a task's time spent queued before it runs. */
  queueShare?: number;
  faults?: FaultOptions;
  seed?: number;
  /** Emulator time runs this many times faster than real time (benchmarks with realistic durations). */
  timeScale?: number;
  /** Side of the square PNGs it makes, in pixels. */
  imageSize?: number;
  sessionQueryStyle?: EmulatorBehaviour["sessionQueryStyle"];
  /** Ark: video tasks an account may have queued (default 120, as documented). */
  arkQueuedTaskCap?: number;
  /** Real-time clock (ms); injectable for tests. */
  clock?: () => number;
  /**
   * A JSON-lines file the emulator appends every task to and reloads when it starts, so that tasks outlive
   * the process (a task submitted by one `jimeng --emulator` command can be picked up by the next). Task ids
   * then stay unique across runs. Tasks older than a day are dropped.
   */
  stateFile?: string;
}

/** How long a persisted task is kept, and how many at most (the real services keep results for 12 h). */
const STATE_TTL_MS = 24 * 60 * 60 * 1000;
const STATE_MAX_TASKS = 5000;
/** Persisted ids start from the time, in tenths of a second since this moment, so runs do not reuse ids. */
const ID_EPOCH_MS = Date.UTC(2025, 0, 1);

export const DEMO_CREDENTIALS: EmulatorCredentials = {
  accessKeyId: "AKLTemulatordemo0000",
  secretAccessKey: "emulator-demo-secret-key",
  sessionId: "emulator-demo-session",
  arkApiKey: "ark-emulator-demo-key",
};

export interface EmulatorCounters {
  requests: number;
  submits: number;
  polls: number;
  downloads: number;
  tasks: number;
  faults: Record<string, number>;
  /** Tasks created per prompt: more than one for a prompt means it was submitted twice. */
  tasksByPrompt: Record<string, number>;
  pollsByTask: Record<string, number>;
  downloadsByTask: Record<string, number>;
}

function emptyCounters(): EmulatorCounters {
  return {
    requests: 0,
    submits: 0,
    polls: 0,
    downloads: 0,
    tasks: 0,
    faults: {},
    tasksByPrompt: {},
    pollsByTask: {},
    downloadsByTask: {},
  };
}

interface OutputFile extends EmulatorOutput {
  index: number;
}

const FAIL_MARKER = /\[fail:(-?[\w.]+)\]/;
const BYTES_CACHE_SIZE = 64;

/** Task clock, outputs, faults and counters: everything both API halves share. */
export class EmulatorCoreImpl implements EmulatorCore {
  baseUrl = "";
  readonly credentials: EmulatorCredentials;
  readonly options: EmulatorBehaviour;
  readonly counters: EmulatorCounters = emptyCounters();
  private readonly tasks = new Map<string, EmulatorTask>();
  private readonly unfinished = new Map<ProviderName, Set<string>>();
  private readonly outputMeta = new Map<string, OutputFile[]>();
  private readonly bytesCache = new Map<string, Buffer>();
  private readonly random: () => number;
  private readonly faultPlan: FaultPlan;
  private readonly startedAt: number;
  private readonly clock: () => number;
  private readonly timeScale: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private sequence = 0;
  private stateFile: string | undefined;

  constructor(private readonly config: EmulatorCoreOptions = {}) {
    this.credentials = { ...DEMO_CREDENTIALS, ...config.credentials };
    this.options = {
      sessionQueryStyle: config.sessionQueryStyle ?? "both",
      arkQueuedTaskCap: config.arkQueuedTaskCap ?? 120,
    };
    this.random = seededRandom(config.seed ?? 20260102);
    this.faultPlan = new FaultPlan(config.faults ?? {}, seededRandom((config.seed ?? 20260102) + 1));
    this.clock = config.clock ?? Date.now;
    this.startedAt = this.clock();
    this.timeScale = config.timeScale ?? 1;
    if (config.stateFile) this.restore(config.stateFile);
  }

  /** Loads the tasks a previous run persisted, and continues its id sequence. */
  private restore(file: string): void {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // No state yet (or unreadable): start empty.
    }
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    const now = this.now();
    const kept: { seq: number; task: EmulatorTask }[] = [];
    for (const line of lines) {
      try {
        const record = JSON.parse(line) as { seq?: unknown; task?: EmulatorTask };
        const task = record.task;
        if (typeof record.seq !== "number" || !task || typeof task.id !== "string") continue;
        if (now - task.createdAt > STATE_TTL_MS) continue;
        kept.push({ seq: record.seq, task });
      } catch {
        // A torn or foreign line: skip it.
      }
    }
    const recent = kept.slice(-STATE_MAX_TASKS);
    for (const { seq, task } of recent) {
      this.tasks.set(task.id, task);
      if (task.finishesAt > now) this.unfinishedSet(task.provider).add(task.id);
      this.sequence = Math.max(this.sequence, seq);
    }
    this.sequence = Math.max(this.sequence, Math.floor((this.clock() - ID_EPOCH_MS) / 100));
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (recent.length < lines.length) {
        writeFileSync(file, recent.map((record) => `${JSON.stringify(record)}\n`).join(""), { mode: 0o600 });
      }
      this.stateFile = file;
    } catch {
      // Cannot persist: the emulator still works, for this process only.
    }
  }

  private persist(task: EmulatorTask): void {
    if (!this.stateFile) return;
    try {
      appendFileSync(this.stateFile, `${JSON.stringify({ seq: this.sequence, task })}\n`, { mode: 0o600 });
    } catch {
      this.stateFile = undefined;
    }
  }

  now(): number {
    return this.startedAt + (this.clock() - this.startedAt) * this.timeScale;
  }

  fault(operation: Operation, provider: ProviderName): FaultKind | undefined {
    if (operation === "submit") this.counters.submits++;
    if (operation === "poll") this.counters.polls++;
    const kind = this.faultPlan.decide(operation, provider, this.now(), this.unfinishedCount(provider));
    if (kind) this.counters.faults[kind] = (this.counters.faults[kind] ?? 0) + 1;
    return kind;
  }

  createTask(input: NewTask): EmulatorTask {
    const now = this.now();
    const duration = this.drawDuration(input.output);
    const queued = Math.round(duration * (this.config.queueShare ?? 0.2));
    const marker = FAIL_MARKER.exec(input.prompt)?.[1];
    let failCode: string | number | undefined;
    if (marker !== undefined) failCode = /^-?\d+$/.test(marker) ? Number(marker) : marker;
    else if (this.faultPlan.taskFails()) failCode = defaultFailCode(input.provider, input.output);
    const task: EmulatorTask = {
      id: this.nextId(input.provider),
      provider: input.provider,
      model: input.model,
      output: input.output,
      prompt: input.prompt,
      outputCount: input.outputCount,
      createdAt: now,
      startsAt: now + queued,
      finishesAt: now + duration,
      meta: input.meta ?? {},
      ...(failCode !== undefined ? { failCode } : {}),
    };
    this.tasks.set(task.id, task);
    this.persist(task);
    this.unfinishedSet(task.provider).add(task.id);
    this.counters.tasks++;
    this.counters.tasksByPrompt[task.prompt] = (this.counters.tasksByPrompt[task.prompt] ?? 0) + 1;
    return task;
  }

  getTask(id: string): EmulatorTask | undefined {
    return this.tasks.get(id);
  }

  phase(task: EmulatorTask): TaskPhase {
    const now = this.now();
    if (now < task.startsAt) return "queued";
    if (now < task.finishesAt) return "running";
    this.unfinished.get(task.provider)?.delete(task.id);
    return task.failCode === undefined ? "succeeded" : "failed";
  }

  countPoll(task: EmulatorTask): void {
    this.counters.pollsByTask[task.id] = (this.counters.pollsByTask[task.id] ?? 0) + 1;
  }

  outputs(task: EmulatorTask): EmulatorOutput[] {
    return this.outputFiles(task).map(({ url, contentType, bytes, sha256 }) => ({
      url,
      contentType,
      bytes,
      sha256,
    }));
  }

  outputBytes(task: EmulatorTask, index: number): Buffer {
    const key = `${task.id}/${index}`;
    const cached = this.bytesCache.get(key);
    if (cached) return cached;
    const size = this.config.imageSize ?? 256;
    const bytes = task.output === "video" ? tinyMp4(key) : proceduralPng(`${key}/${task.prompt}`, size, size);
    this.bytesCache.set(key, bytes);
    if (this.bytesCache.size > BYTES_CACHE_SIZE) {
      const oldest = this.bytesCache.keys().next().value;
      if (oldest !== undefined) this.bytesCache.delete(oldest);
    }
    return bytes;
  }

  /** The file behind `/files/<task>/<index>.<ext>`, if that task has such an output. */
  file(taskId: string, index: number): { task: EmulatorTask; output: OutputFile } | undefined {
    const task = this.tasks.get(taskId);
    if (!task || this.phase(task) !== "succeeded") return undefined;
    const output = this.outputFiles(task)[index];
    return output ? { task, output } : undefined;
  }

  countDownload(taskId: string): void {
    this.counters.downloads++;
    this.counters.downloadsByTask[taskId] = (this.counters.downloadsByTask[taskId] ?? 0) + 1;
  }

  decideDownloadFault() {
    const fault = this.faultPlan.decideDownload();
    if (fault)
      this.counters.faults[`download-${fault}`] = (this.counters.faults[`download-${fault}`] ?? 0) + 1;
    return fault;
  }

  async waitUntilFinished(task: EmulatorTask): Promise<void> {
    // A timer may fire a little before the wall clock reaches its time: wait again until the task's phase is
    // final, or a caller would see it still running after the wait (and a failing task succeed).
    for (;;) {
      const remaining = (task.finishesAt - this.now()) / this.timeScale;
      if (remaining <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            resolve();
          },
          Math.max(1, Math.ceil(remaining)),
        );
        this.timers.add(timer);
      });
    }
  }

  waitFor(ms: number): Promise<void> {
    const real = ms / this.timeScale;
    if (real <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, Math.ceil(real));
      this.timers.add(timer);
    });
  }

  save(task: EmulatorTask): void {
    this.persist(task);
  }

  tasksOf(provider: ProviderName): EmulatorTask[] {
    return [...this.tasks.values()].filter((task) => task.provider === provider);
  }

  /** Every task the emulator knows, for tests and benchmarks that check outputs against files on disk. */
  allTasks(): EmulatorTask[] {
    return [...this.tasks.values()];
  }

  resetCounters(): void {
    Object.assign(this.counters, emptyCounters());
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private outputFiles(task: EmulatorTask): OutputFile[] {
    const cached = this.outputMeta.get(task.id);
    if (cached) return cached;
    const files: OutputFile[] = [];
    for (let index = 0; index < task.outputCount; index++) {
      const bytes = this.outputBytes(task, index);
      const ext = task.output === "video" ? "mp4" : "png";
      files.push({
        index,
        url: `${this.baseUrl}/files/${task.id}/${index}.${ext}`,
        contentType: task.output === "video" ? "video/mp4" : "image/png",
        bytes: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
    }
    this.outputMeta.set(task.id, files);
    return files;
  }

  /**
   * A poll interval (real ms) that suits this emulator's task durations: a tenth of the shortest one, real
   * time, between 5 ms and 1 s. Clients that keep the real services' pacing wait seconds for a task that
   * takes milliseconds here.
   */
  pollIntervalMs(): number {
    const shortest = Math.min(this.durationBounds("image")[0], this.durationBounds("video")[0]);
    return Math.min(1000, Math.max(5, Math.round(shortest / this.timeScale / 10)));
  }

  private durationBounds(output: "image" | "video"): readonly [number, number] {
    const spec = this.config.durations?.[output] ?? (output === "video" ? 2500 : 1200);
    return typeof spec === "number" ? [spec, spec] : spec;
  }

  private drawDuration(output: "image" | "video"): number {
    const spec = this.config.durations?.[output] ?? (output === "video" ? 2500 : 1200);
    if (typeof spec === "number") return spec;
    const [min, max] = spec;
    return Math.round(min + (max - min) * this.random());
  }

  private nextId(provider: ProviderName): string {
    this.sequence++;
    // Visual task ids are 19-digit decimals above 2^53, like the real ones; session history ids 13 digits.
    if (provider === "visual") return (7392616336519610409n + BigInt(this.sequence) * 7919n).toString();
    // Ark video task ids look like `cgt-20250611164843-9pzzw`.
    if (provider === "ark")
      return `cgt-${new Date(this.now()).toISOString().slice(0, 19).replace(/\D/g, "")}-${this.sequence.toString(36).padStart(5, "0")}`;
    return (8875150819340 + this.sequence * 17).toString();
  }

  private unfinishedSet(provider: ProviderName): Set<string> {
    let set = this.unfinished.get(provider);
    if (!set) {
      set = new Set();
      this.unfinished.set(provider, set);
    }
    return set;
  }

  private unfinishedCount(provider: ProviderName): number {
    const set = this.unfinished.get(provider);
    if (!set) return 0;
    const now = this.now();
    for (const id of set) {
      const task = this.tasks.get(id);
      if (!task || task.finishesAt <= now) set.delete(id);
    }
    return set.size;
  }
}

function defaultFailCode(provider: ProviderName, output: "image" | "video"): string | number {
  if (provider === "session") return "2038";
  if (provider === "ark")
    return output === "video" ? "OutputVideoSensitiveContentDetected" : "OutputImageSensitiveContentDetected";
  return output === "video" ? 50516 : 50511;
}
