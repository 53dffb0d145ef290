import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { type CliIO, processIO } from "./io.js";

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  auth: 3,
  timeout: 4,
  interrupted: 130,
} as const;

/** Builds a fresh program per call, so that `main` can run many times in one process (tests). */
function buildProgram(io: CliIO): Command {
  const program = new Command("jimeng")
    .description("Generate images and videos with Volcengine Jimeng (即梦 / Dreamina / Seedream).")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showSuggestionAfterError(true);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves with the exit code. Never exits. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (argv.length === 0) program.outputHelp();
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    io.stderr.write(`jimeng: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
