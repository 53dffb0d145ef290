/**
 * The `jimeng` program: global options, the command table turned into commander commands, and the one place
 * that turns a command's outcome into an exit code. Command modules load only when their command runs.
 */
import { Argument, Command, CommanderError, Option } from "commander";
import type { ProviderName } from "../errors.js";
import { VERSION } from "../version.js";
import { COMMANDS, GLOBAL_OPTIONS } from "./command-table.js";
import type { CommandModule, CommandSpec, GlobalOptions, OptionSpec } from "./command-types.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { type CliIO, processIO } from "./io.js";
import { Output, Scrubber } from "./output.js";
import { neutralise } from "./terminal-text.js";

export { EXIT };

const PROGRAM_HELP = `
Providers:
  visual    the official Volcengine Visual API (VOLC_ACCESSKEY + VOLC_SECRETKEY)
  session   a jimeng-api compatible session server (JIMENG_SESSION_ID)
  ark       Volcengine Ark: Seedream images and Seedance video (ARK_API_KEY)
  Picked by --provider, else by the model (doubao-seedream-…, doubao-seedance-…, seedream-…, ep-… are Ark's),
  else JIMENG_PROVIDER, else the config store, else from the credentials you have.
  Settings: flag > environment > config store > default (see \`jimeng config list\`).

Exit codes:
  0 ok · 1 generation failed · 2 usage or validation error (nothing sent)
  3 authentication or configuration error · 4 timed out
  5 output folder in use by another batch (nothing sent) · 130 interrupted

Run \`jimeng <command> --help\` for a command's options and examples.`;

interface RunState {
  output?: Output;
  code: number;
  /** The signal that interrupted the command, if one did. */
  signal?: NodeJS.Signals;
}

/** Listens for Ctrl-C / SIGTERM while an interruptible command runs; a second Ctrl-C exits at once. */
function interruption(io: CliIO, wanted: boolean, state: RunState): { signal: AbortSignal; dispose(): void } {
  if (io.signal) return { signal: io.signal, dispose() {} };
  const controller = new AbortController();
  if (!wanted) return { signal: controller.signal, dispose() {} };
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      dispose();
      process.kill(process.pid, name);
      return;
    }
    state.signal = name;
    controller.abort();
  };
  const dispose = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { signal: controller.signal, dispose };
}

function globalsOf(options: Record<string, unknown>): GlobalOptions {
  const globals: GlobalOptions = {
    json: options.json === true,
    quiet: options.quiet === true,
    verbose: options.verbose === true,
    color: options.color !== false,
    emulator: options.emulator === true,
  };
  if (typeof options.provider === "string") globals.provider = options.provider as ProviderName;
  if (typeof options.server === "string") globals.server = options.server;
  if (typeof options.apiKey === "string") globals.apiKey = options.apiKey;
  return globals;
}

/** Global flags found by scanning argv, for errors raised before commander has parsed anything. */
function sniffGlobals(argv: readonly string[]): GlobalOptions {
  const until = argv.indexOf("--");
  const flags = new Set(until === -1 ? argv : argv.slice(0, until));
  return {
    json: flags.has("--json"),
    quiet: flags.has("--quiet") || flags.has("-q"),
    verbose: flags.has("--verbose"),
    color: !flags.has("--no-color"),
    emulator: flags.has("--emulator"),
  };
}

function examplesText(examples: readonly string[]): string {
  return `\nExamples:\n${examples.map((example) => `  $ ${example}`).join("\n")}\n`;
}

function optionOf(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  if (spec.choices) option.choices(spec.choices);
  if (spec.parse) option.argParser(spec.parse);
  if (spec.hidden) option.hideHelp();
  return option;
}

function addCommand(
  parent: Command,
  spec: CommandSpec,
  path: readonly string[],
  inheritedLoad: CommandSpec["load"],
  io: CliIO,
  state: RunState,
  scrubber: Scrubber,
): void {
  const command = parent.command(spec.name).description(spec.summary).summary(spec.summary);
  for (const argument of spec.arguments ?? []) {
    const arg = new Argument(argument.name, argument.description);
    if (argument.choices) arg.choices(argument.choices);
    command.addArgument(arg);
  }
  for (const optionSpec of spec.options ?? []) command.addOption(optionOf(optionSpec));
  if (spec.examples?.length) command.addHelpText("after", examplesText(spec.examples));

  const commandPath = [...path, spec.name];
  const load = spec.load ?? inheritedLoad;
  if (spec.subcommands?.length) {
    for (const sub of spec.subcommands) addCommand(command, sub, commandPath, load, io, state, scrubber);
    return;
  }
  if (!load) throw new Error(`jimeng: command "${commandPath.join(" ")}" has no module`);
  command.action(async (...raw: unknown[]) => {
    const self = raw[raw.length - 1] as Command;
    const globals = globalsOf(self.optsWithGlobals());
    scrubber.add(globals.apiKey);
    const output = new Output(io, globals, { scrubber });
    state.output = output;
    const module: CommandModule = await load();
    const interrupt = interruption(io, spec.interruptible === true, state);
    try {
      state.code = await module.run(
        { io, env: io.env, globals, output, signal: interrupt.signal },
        {
          path: commandPath,
          args: self.processedArgs as (string | string[] | undefined)[],
          options: self.opts(),
        },
      );
    } finally {
      interrupt.dispose();
    }
  });
}

/** Builds a fresh program per call, so that `main` can run many times in one process (tests). */
function buildProgram(io: CliIO, state: RunState, scrubber: Scrubber): Command {
  const program = new Command("jimeng")
    .description("Generate images and videos with Volcengine Jimeng (即梦 / Dreamina / Seedream).")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(neutralise(scrubber.scrub(text))),
      writeErr: (text) => io.stderr.write(neutralise(scrubber.scrub(text))),
    })
    // A command's --help lists the global options too (--json, --emulator…), under their own heading.
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", PROGRAM_HELP);
  for (const spec of GLOBAL_OPTIONS) program.addOption(optionOf(spec));
  for (const spec of COMMANDS) addCommand(program, spec, [], undefined, io, state, scrubber);
  return program;
}

function usageDocument(error: CommanderError): string {
  const message = error.message.replace(/^error: /, "");
  return `${JSON.stringify({ error: { name: "UsageError", code: error.code, message } })}\n`;
}

/** Runs the CLI with `argv` (without node and script) and resolves with the exit code. Never exits. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const scrubber = new Scrubber();
  scrubber.add(
    io.env.VOLC_SECRETKEY,
    io.env.VOLC_SESSION_TOKEN,
    io.env.JIMENG_SESSION_ID,
    io.env.JIMENG_SERVER_API_KEY,
  );
  const state: RunState = { code: EXIT.ok };
  const program = buildProgram(io, state, scrubber);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCodeAfter(state, state.code);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.version" || error.code === "commander.helpDisplayed") return EXIT.ok;
      // `jimeng help` exits 0; help shown because a subcommand is missing is a usage error.
      if (error.code === "commander.help") return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      if (sniffGlobals(argv).json) io.stdout.write(scrubber.scrub(usageDocument(error)));
      return EXIT.usage;
    }
    const output = state.output ?? new Output(io, sniffGlobals(argv), { scrubber });
    output.error(error);
    return exitCodeAfter(state, exitCodeFor(error));
  }
}

/** An interruption by SIGTERM exits 143, as a terminated process does; Ctrl-C (SIGINT) stays 130. */
function exitCodeAfter(state: RunState, code: number): number {
  return code === EXIT.interrupted && state.signal === "SIGTERM" ? EXIT.terminated : code;
}
