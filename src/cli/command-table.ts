/**
 * Every command, declared once: its arguments, options, one-line purpose and examples (which drive `--help`),
 * and a loader that imports the command's module only when it runs. Adding a command is adding an entry.
 * This module must stay light: no zod, undici, conf or ora here (they would slow `jimeng --version`).
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

const loadConfig = () => import("./commands/config.js");
const loadEmulate = () => import("./commands/emulate.js");
const loadModels = () => import("./commands/models.js");

const configKeyArgument: ArgumentSpec = {
  name: "<key>",
  description: "a config key (see `jimeng config list`)",
};

/**
 * The generation commands (generate, compose, video, submit, result, batch, doctor) slot in here as further
 * entries once the task engine lands.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "config",
    summary: "read and change the config store (credentials, endpoints, defaults)",
    load: loadConfig,
    examples: [
      "jimeng config set accessKeyId AKLTexample",
      "jimeng config set secretAccessKey -        # reads the secret from stdin, not your shell history",
      "jimeng config list --json",
      "jimeng config path",
    ],
    subcommands: [
      {
        name: "set",
        summary: "store a value (use - to read it from stdin)",
        arguments: [configKeyArgument, { name: "<value>", description: "the value, or - to read stdin" }],
        examples: [
          "jimeng config set region cn-north-1",
          'printf %s "$SECRET" | jimeng config set secretAccessKey -',
        ],
      },
      {
        name: "get",
        summary: "print a setting's effective value (credentials masked)",
        arguments: [configKeyArgument],
        examples: ["jimeng config get region", "jimeng config get accessKeyId --json"],
      },
      {
        name: "unset",
        summary: "remove a value from the store",
        arguments: [configKeyArgument],
        examples: ["jimeng config unset sessionId"],
      },
      {
        name: "list",
        summary: "every setting with its value and where it comes from (flag, env, config, default)",
        examples: ["jimeng config list", "jimeng config list --json"],
      },
      {
        name: "path",
        summary: "print the config file's path",
        examples: ["jimeng config path", "JIMENG_CONFIG_DIR=./.jimeng jimeng config path"],
      },
    ],
  },
  {
    name: "models",
    summary: "the models of each provider with what they accept",
    load: loadModels,
    options: [
      {
        flags: "--kind <kind>",
        description: "only models for this kind of job",
        choices: ["generate", "compose", "video"],
      },
    ],
    examples: ["jimeng models", "jimeng models --kind video", "jimeng --provider session models --json"],
  },
  {
    name: "emulate",
    summary: "run the offline emulator of both APIs in the foreground and print its endpoints",
    load: loadEmulate,
    interruptible: true,
    options: [
      { flags: "--port <n>", description: "port to listen on (0 picks a free one)", defaultValue: "0" },
      { flags: "--host <address>", description: "address to bind", defaultValue: "127.0.0.1" },
      { flags: "--latency <duration>", description: "extra delay before every answer, e.g. 50ms" },
      { flags: "--fail-rate <0..1>", description: "share of tasks that end failed", defaultValue: "0" },
      { flags: "--seed <n>", description: "seed for reproducible faults and outputs" },
    ],
    examples: ["jimeng emulate --port 5100", "jimeng emulate --latency 50ms --fail-rate 0.1 --json"],
  },
];
