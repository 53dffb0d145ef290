/**
 * Everything the CLI prints goes through here. One place decides the mode (`--json` documents on stdout,
 * spinners on a TTY, plain lines otherwise, colours when allowed), and every byte passes a scrubber that
 * removes known secrets (in any of their encoded forms) before it reaches a stream; text for a person also
 * has every control character but our own colour codes made visible.
 */
import { once } from "node:events";
import type { Ora } from "ora";
import { type ErrorJSON, JimengError, ValidationError } from "../errors.js";
import { redactSecrets, secretForms } from "../http/redact.js";
import type { CliIO, CliStream } from "./io.js";
import { neutralise, safeText } from "./terminal-text.js";

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** false with `--no-color`. */
  color?: boolean;
}

export interface OutputMode {
  /** One JSON document on stdout; human text on stderr. */
  json: boolean;
  /** Only errors, warnings and the result itself. */
  quiet: boolean;
  verbose: boolean;
  /** Spinners (stderr is a TTY, not CI, not a dumb terminal, not quiet). */
  interactive: boolean;
  color: { stdout: boolean; stderr: boolean };
}

function flagSet(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** True when the environment says we run under CI (`CI=true`, `CI=1`, …; `CI=false` does not count). */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== "0" && env.CI.toLowerCase() !== "false";
}

function streamColor(stream: CliStream, options: OutputOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.color === false) return false;
  // https://no-color.org: any non-empty value disables colour.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined) return flagSet(env.FORCE_COLOR);
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** Pure: how the CLI prints, given the global flags and the streams it writes to. */
export function decideOutputMode(options: OutputOptions, io: CliIO): OutputMode {
  const quiet = options.quiet === true;
  return {
    json: options.json === true,
    quiet,
    verbose: options.verbose === true && !quiet,
    interactive: io.stderr.isTTY === true && !isCI(io.env) && io.env.TERM !== "dumb" && !quiet,
    color: {
      stdout: streamColor(io.stdout, options, io.env),
      stderr: streamColor(io.stderr, options, io.env),
    },
  };
}

/**
 * Remembers secrets and removes them from text: each as written, percent-encoded and base64-encoded. The last
 * line of defence, not the first; the same step runs over the streams and the files the CLI writes.
 */
export class Scrubber {
  readonly #secrets = new Set<string>();
  #sorted: string[] | undefined;

  /**
   * Registers secrets. A comma-separated list (several session ids) registers each item too, and a
   * `proxyURL@sessionid` token also its bare id.
   */
  add(...secrets: readonly (string | undefined)[]): void {
    const add = (secret: string) => {
      for (const form of secretForms(secret)) this.#secrets.add(form);
    };
    for (const secret of secrets) {
      if (!secret) continue;
      add(secret);
      for (const item of secret.split(",")) {
        const part = item.trim();
        if (part === "") continue;
        add(part);
        const at = part.lastIndexOf("@");
        if (at >= 0) add(part.slice(at + 1));
      }
    }
    this.#sorted = undefined;
  }

  scrub(text: string): string {
    if (this.#secrets.size === 0) return text;
    // Longest first, so that a secret containing another is removed whole.
    this.#sorted ??= [...this.#secrets].sort((a, b) => b.length - a.length);
    return redactSecrets(text, this.#sorted);
  }
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

function ansi(open: number, close: number, enabled: boolean): (text: string) => string {
  return enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
}

export function createStyle(enabled: boolean): Style {
  return {
    bold: ansi(1, 22, enabled),
    dim: ansi(2, 22, enabled),
    red: ansi(31, 39, enabled),
    green: ansi(32, 39, enabled),
    yellow: ansi(33, 39, enabled),
    cyan: ansi(36, 39, enabled),
  };
}

/** Phases of a long operation: an ora spinner on a TTY, plain lines on stderr otherwise. */
export interface Progress {
  /** The current phase ("submitting", "waiting 12s"); replaces the previous one. */
  phase(text: string): void;
  /** Ends the current phase (if any) with a success line. */
  succeed(text: string): void;
  /** Ends the current phase (if any) with a failure line. Shown even with --quiet. */
  fail(text: string): void;
  /** A line that does not end the phase. */
  info(text: string): void;
  /** Stops a running spinner without a line. */
  stop(): void;
}

type OraFactory = (options: import("ora").Options) => Ora;

/** Terminals that do not know their size (`script`, some CI pseudo-terminals) report 0 columns. */
const FALLBACK_COLUMNS = 80;

/**
 * The stream ora draws on, with a usable width. ora divides by `columns` to count the lines it must clear, so
 * a terminal that reports 0 columns made it clear Infinity lines (a busy loop writing without end). Everything
 * else goes to the real stream, looked up at call time (ora replaces `write` while it spins and puts it back).
 */
export function widthSafeStream(stream: CliStream): NodeJS.WriteStream {
  const tty = stream as Partial<NodeJS.WriteStream> & CliStream;
  const wrapper = {
    get isTTY() {
      return tty.isTTY === true;
    },
    get columns() {
      const columns = tty.columns;
      return typeof columns === "number" && columns > 0 ? columns : FALLBACK_COLUMNS;
    },
    get rows() {
      return tty.rows;
    },
    write: (...args: unknown[]) => (tty.write as (...a: unknown[]) => boolean)(...args),
    cursorTo: (...args: unknown[]) =>
      (tty.cursorTo as ((...a: unknown[]) => boolean) | undefined)?.(...args) ?? true,
    moveCursor: (...args: unknown[]) =>
      (tty.moveCursor as ((...a: unknown[]) => boolean) | undefined)?.(...args) ?? true,
    clearLine: (...args: unknown[]) =>
      (tty.clearLine as ((...a: unknown[]) => boolean) | undefined)?.(...args) ?? true,
    once: (event: string, listener: (...a: unknown[]) => void) => {
      tty.once(event, listener);
      return wrapper;
    },
    removeListener: (event: string, listener: (...a: unknown[]) => void) => {
      tty.removeListener(event, listener);
      return wrapper;
    },
  };
  return wrapper as unknown as NodeJS.WriteStream;
}

class SpinnerProgress implements Progress {
  #state: "idle" | "loading" | "spinning" = "idle";
  #text = "";
  #spinner: Ora | undefined;
  #factory: OraFactory | undefined;

  constructor(
    private readonly out: Output,
    private readonly load: () => Promise<OraFactory>,
  ) {}

  phase(text: string): void {
    this.#text = this.out.scrub(text);
    if (this.#state === "spinning" && this.#spinner) {
      // Drawn now, not at the next frame: a phase shorter than a frame (80 ms) is still seen once.
      this.#spinner.text = this.#text;
      this.#spinner.render();
      return;
    }
    if (this.#factory) {
      this.#start(this.#factory);
      return;
    }
    if (this.#state === "loading") return;
    this.#state = "loading";
    this.load().then(
      (factory) => {
        this.#factory = factory;
        if (this.#state === "loading") this.#start(factory);
      },
      () => {
        // No spinner after all: show the phase as a plain line.
        if (this.#state === "loading") {
          this.#state = "idle";
          this.out.stderrLine(`${this.out.errStyle.cyan("•")} ${this.#text}`);
        }
      },
    );
  }

  #start(factory: OraFactory): void {
    this.#spinner = factory({
      text: this.#text,
      stream: widthSafeStream(this.out.io.stderr),
      isEnabled: true,
      discardStdin: false,
      color: this.out.mode.color.stderr ? "cyan" : false,
    }).start();
    this.#state = "spinning";
  }

  #end(symbol: string, text: string): void {
    const line = this.out.scrub(text);
    if (this.#state === "spinning" && this.#spinner) {
      this.#spinner.stopAndPersist({ symbol, text: line });
    } else {
      this.out.stderrLine(`${symbol} ${line}`);
    }
    this.#spinner = undefined;
    this.#state = "idle";
  }

  succeed(text: string): void {
    this.#end(this.out.errStyle.green("✔"), text);
  }

  fail(text: string): void {
    this.#end(this.out.errStyle.red("✖"), text);
  }

  info(text: string): void {
    const line = `${this.out.errStyle.cyan("ℹ")} ${this.out.scrub(text)}`;
    if (this.#state === "spinning" && this.#spinner) {
      this.#spinner.clear();
      this.out.stderrLine(line);
      this.#spinner.render();
    } else {
      this.out.stderrLine(line);
    }
  }

  stop(): void {
    this.#spinner?.stop();
    this.#spinner = undefined;
    this.#state = "idle";
  }
}

class LineProgress implements Progress {
  constructor(private readonly out: Output) {}

  phase(text: string): void {
    if (!this.out.mode.quiet) this.out.stderrLine(`${this.out.errStyle.cyan("•")} ${text}`);
  }

  succeed(text: string): void {
    if (!this.out.mode.quiet) this.out.stderrLine(`${this.out.errStyle.green("✔")} ${text}`);
  }

  fail(text: string): void {
    this.out.stderrLine(`${this.out.errStyle.red("✖")} ${text}`);
  }

  info(text: string): void {
    if (!this.out.mode.quiet) this.out.stderrLine(`${this.out.errStyle.cyan("ℹ")} ${text}`);
  }

  stop(): void {}
}

/** The `--json` document for a failed command. */
export interface ErrorDocument {
  error: ErrorJSON;
}

export function errorDocument(error: unknown): ErrorDocument {
  if (error instanceof JimengError) return { error: error.toJSON() };
  const message = error instanceof Error ? error.message : String(error);
  return { error: { name: "Error", code: "UNEXPECTED", message } };
}

export interface OutputDeps {
  /** How to load ora; injectable for tests. Defaults to a dynamic import, so only TTY runs pay for it. */
  loadOra?: () => Promise<OraFactory>;
  scrubber?: Scrubber;
}

async function importOra(): Promise<OraFactory> {
  const module = await import("ora");
  return module.default;
}

export class Output {
  readonly mode: OutputMode;
  readonly secrets: Scrubber;
  /** Colours for text written to stdout / stderr (each stream decides for itself). */
  readonly style: Style;
  readonly errStyle: Style;
  readonly progress: Progress;
  #documentWritten = false;

  constructor(
    readonly io: CliIO,
    options: OutputOptions | OutputMode,
    deps: OutputDeps = {},
  ) {
    this.mode = "interactive" in options ? options : decideOutputMode(options, io);
    this.secrets = deps.scrubber ?? new Scrubber();
    this.style = createStyle(this.mode.color.stdout);
    this.errStyle = createStyle(this.mode.color.stderr);
    this.progress = this.mode.interactive
      ? new SpinnerProgress(this, deps.loadOra ?? importOra)
      : new LineProgress(this);
  }

  /** For a terminal or a log: secrets removed, control characters made visible. */
  scrub(text: string): string {
    return neutralise(this.secrets.scrub(text));
  }

  /** For files and `--json` documents: secrets removed, everything else exact. */
  redact(text: string): string {
    return this.secrets.scrub(text);
  }

  /** True once the `--json` document has been written. */
  get documentWritten(): boolean {
    return this.#documentWritten;
  }

  /** Raw, scrubbed write to stdout. */
  stdout(text: string): void {
    this.io.stdout.write(this.scrub(text));
  }

  /** Raw, scrubbed write to stderr. */
  stderr(text: string): void {
    this.io.stderr.write(this.scrub(text));
  }

  stderrLine(text: string): void {
    this.stderr(`${text}\n`);
  }

  /** The command's human result on stdout (tables, paths, values). Ignored in `--json` mode. */
  print(text: string): void {
    if (this.mode.json) return;
    this.stdout(text.endsWith("\n") ? text : `${text}\n`);
  }

  /**
   * Writes the one `--json` document: indented for a person at a terminal, one line for a pipe (so a script
   * can read it line by line from a long-running command). A second call is a bug and throws.
   */
  json(document: unknown): void {
    if (this.#documentWritten) throw new Error("jimeng: the --json document was already written");
    this.#documentWritten = true;
    this.io.stdout.write(
      this.redact(`${JSON.stringify(document, null, this.io.stdout.isTTY ? 2 : undefined)}\n`),
    );
  }

  /**
   * `json` for a document too large to hold: `text(indent)` yields its JSON text in pieces, written as the
   * stream takes them.
   */
  async jsonText(text: (indent: number | undefined) => AsyncIterable<string>): Promise<void> {
    if (this.#documentWritten) throw new Error("jimeng: the --json document was already written");
    this.#documentWritten = true;
    const stdout = this.io.stdout;
    for await (const chunk of text(stdout.isTTY ? 2 : undefined)) {
      if (!stdout.write(this.redact(chunk))) await once(stdout, "drain");
    }
    stdout.write("\n");
  }

  /** The command's result: `document` with `--json`, else the human text. */
  result(document: unknown, human: () => string): void {
    if (this.mode.json) this.json(document);
    else this.print(human());
  }

  /** Non-essential information on stderr (silenced by --quiet). */
  info(text: string): void {
    if (!this.mode.quiet) this.stderrLine(text);
  }

  /** Detail only with --verbose. */
  verbose(text: string): void {
    if (this.mode.verbose) this.stderrLine(this.errStyle.dim(text));
  }

  /** Something the user should know even with --quiet. */
  warn(text: string): void {
    this.stderrLine(`${this.errStyle.yellow("warning:")} ${text}`);
  }

  /**
   * Reports a failure: what happened, the provider's code and request id, and what to do next. With --json it
   * is also the stdout document, unless the command already wrote one (which then carries the error).
   */
  error(error: unknown): void {
    this.progress.stop();
    this.stderr(formatError(error, this.errStyle, this.mode.verbose));
    if (this.mode.json && !this.#documentWritten) this.json(errorDocument(error));
  }
}

/** The human text of an error, ending with a newline. Text from outside is kept to one safe line each. */
export function formatError(error: unknown, style: Style, verbose = false): string {
  const lines: string[] = [];
  if (error instanceof ValidationError && (error.issues.length > 1 || error.summary !== undefined)) {
    lines.push(`${style.red("error:")} ${safeText(error.summary ?? "invalid input")}`);
    for (const issue of error.issues) {
      lines.push(`  ${issue.path ? `${style.bold(safeText(issue.path))}: ` : ""}${safeText(issue.message)}`);
    }
  } else {
    lines.push(`${style.red("error:")} ${safeText(messageOf(error), 2000)}`);
  }
  if (error instanceof JimengError) {
    const json = error.toJSON();
    const facts: string[] = [];
    if (json.provider) facts.push(`provider ${json.provider}`);
    if (json.httpStatus !== undefined) facts.push(`HTTP ${json.httpStatus}`);
    if (!(error instanceof ValidationError) && !mentionsCode(json.message, json.code))
      facts.push(`code ${safeText(String(json.code), 100)}`);
    if (json.requestId) facts.push(`request id ${safeText(json.requestId, 200)}`);
    if (json.taskId) facts.push(`task ${safeText(json.taskId, 200)}`);
    if (json.lastStatus) facts.push(`last status ${safeText(json.lastStatus, 100)}`);
    if (facts.length > 0) lines.push(style.dim(`  ${facts.join(" · ")}`));
    if (error.hint) lines.push(`  ${style.cyan("hint:")} ${safeText(error.hint, 2000)}`);
  }
  if (verbose && error instanceof Error) {
    let cause: unknown = error.cause;
    while (cause !== undefined) {
      lines.push(style.dim(`  caused by: ${safeText(messageOf(cause), 2000)}`));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    // A stack trace helps only for a bug of ours, never for a known failure of the system (a file in the way).
    if (error.stack && !(error instanceof JimengError) && !isSystemError(error))
      lines.push(style.dim(error.stack));
  }
  return `${lines.join("\n")}\n`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the message already names the code (`error 50511 …`, `… [50511]`), so it is not repeated. */
function mentionsCode(message: string, code: string | number): boolean {
  const text = String(code).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w-])${text}($|[^\\w-])`).test(message);
}

/** A failure from outside as one safe line: its message, then its code unless the message shows it already. */
export function failureText(failure: { code: string | number; message: string }): string {
  const code = mentionsCode(failure.message, failure.code) ? "" : ` [${safeText(String(failure.code), 100)}]`;
  return `${safeText(failure.message, 2000)}${code}`;
}

/** An error from the operating system (ENOTDIR, EACCES, …): its message says it all. */
function isSystemError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) && "syscall" in error;
}
