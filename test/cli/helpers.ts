import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import type { CliIO } from "../../src/cli/io.js";

export interface FakeTerminal {
  io: CliIO;
  /** The same streams as `io.stdout` / `io.stderr`, typed as readable for waiting on output. */
  streams: { stdout: PassThrough; stderr: PassThrough };
  out(): string;
  err(): string;
}

export interface FakeTerminalOptions {
  env?: NodeJS.ProcessEnv;
  /** Both streams claim to be a TTY (with the cursor methods ora uses). */
  tty?: boolean;
  stdin?: string;
  signal?: AbortSignal;
}

type TtyStream = PassThrough & {
  isTTY?: boolean;
  columns?: number;
  cursorTo?: () => boolean;
  moveCursor?: () => boolean;
  clearLine?: () => boolean;
};

function stream(tty: boolean): TtyStream {
  const s: TtyStream = new PassThrough();
  if (tty) {
    s.isTTY = true;
    s.columns = 100;
    s.cursorTo = () => true;
    s.moveCursor = () => true;
    s.clearLine = () => true;
  }
  return s;
}

/** An in-memory terminal for `main()`: captured stdout/stderr, a chosen env, optional stdin text. */
export function fakeTerminal(options: FakeTerminalOptions = {}): FakeTerminal {
  const stdout = stream(options.tty === true);
  const stderr = stream(options.tty === true);
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => {
    out += chunk;
  });
  stderr.on("data", (chunk) => {
    err += chunk;
  });
  const io: CliIO = { stdout, stderr, env: options.env ?? {} };
  if (options.stdin !== undefined) io.stdin = Readable.from([options.stdin]);
  if (options.signal) io.signal = options.signal;
  return { io, streams: { stdout, stderr }, out: () => out, err: () => err };
}

/** A fresh config folder (removed by the returned cleanup). */
export function tempConfigDir(): { dir: string; cleanup(): void } {
  const dir = join(mkdtempSync(join(tmpdir(), "jimeng-cli-")), "config");
  return { dir, cleanup: () => rmSync(dirname(dir), { recursive: true, force: true }) };
}
