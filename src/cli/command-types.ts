/**
 * The types a command is written against: what it declares (CommandSpec, its options and arguments) and
 * what it gets when it runs (CommandContext, CommandCall). Apart from the command table so that command
 * modules and the table do not import each other.
 */
import type { ProviderName } from "../errors.js";
import type { CliIO } from "./io.js";
import type { Output } from "./output.js";

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** false with `--no-color`. */
  color: boolean;
  provider?: ProviderName;
  emulator: boolean;
  /** `--server <url>`: a shared `jimeng serve` instead of the provider (JIMENG_SERVER_URL). */
  server?: string;
  /** `--api-key <key>`: the service's API key (JIMENG_SERVER_API_KEY). A credential: never printed. */
  apiKey?: string;
}

/** What a command's module gets to work with. */
export interface CommandContext {
  io: CliIO;
  env: NodeJS.ProcessEnv;
  globals: GlobalOptions;
  output: Output;
  /** Fires on Ctrl-C (or SIGTERM): stop submitting, record what is in flight, return EXIT.interrupted. */
  signal: AbortSignal;
}

export interface CommandCall {
  /** The command path, e.g. ["config", "set"]. */
  path: readonly string[];
  /** Positional arguments in declaration order (a variadic one is an array). */
  args: readonly (string | string[] | undefined)[];
  /** The command's own options, as commander parsed them. */
  options: Readonly<Record<string, unknown>>;
}

export interface CommandModule {
  /** Runs the command; resolves with the exit code (or throws an error that `exitCodeFor` maps). */
  run(context: CommandContext, call: CommandCall): Promise<number>;
}

export interface OptionSpec {
  /** Commander flags, e.g. "-o, --out <dir>". */
  flags: string;
  description: string;
  defaultValue?: string | number | boolean;
  choices?: readonly string[];
  /** Parses the raw value; may throw a ValidationError naming the flag (exit 2). */
  parse?: (value: string) => unknown;
  /** Parsed, but left out of `--help` (a flag the command's models never accept). */
  hidden?: boolean;
}

export interface ArgumentSpec {
  /** Commander syntax: "<key>", "[value]", "<prompt...>". */
  name: string;
  description: string;
  choices?: readonly string[];
}

export interface CommandSpec {
  name: string;
  /** One line: what the command does. */
  summary: string;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** Shown under "Examples:" in the command's help. */
  examples?: readonly string[];
  subcommands?: readonly CommandSpec[];
  /**
   * The command watches `context.signal` for Ctrl-C. Only then does `main()` catch SIGINT/SIGTERM; other
   * commands keep Node's default (the process ends at once).
   */
  interruptible?: boolean;
  /** The module that runs it; subcommands use their parent's when they have none. */
  load?: () => Promise<CommandModule>;
}
