/** Where the CLI reads and writes. Injected so that `main()` can run in-process in tests. */
export type CliStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface CliIO {
  stdout: CliStream;
  stderr: CliStream;
  env: NodeJS.ProcessEnv;
  /** For `jimeng config set <key> -`; process.stdin by default. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /**
   * Fires when the user interrupts (Ctrl-C). When absent, `main()` listens for SIGINT/SIGTERM itself while
   * a command runs; a second Ctrl-C falls through to Node's default (immediate exit).
   */
  signal?: AbortSignal;
}

let stdoutGuarded = false;

/**
 * A reader that goes away (`jimeng --help | head -1`) is not an error: the rest of stdout is dropped and the
 * command ends as it would have (a run that is paying for something still finishes and saves).
 */
function ignoreClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

export function processIO(): CliIO {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    ignoreClosedPipe(process.stdout);
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin };
}
