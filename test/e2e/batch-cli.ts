/** Kept for test files written on other branches against this path: the one harness is test/helpers/cli.ts. */
export { BIN, type CliRun, emulatorEnv, runCli, tempDir, whenStderr } from "../helpers/cli.js";
