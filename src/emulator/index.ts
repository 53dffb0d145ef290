// The `jimeng/emulator` entry: the loopback emulator of both remote APIs, for testing pipelines offline.
// Kept off the main entry so that `import "jimeng"` never loads it.

export type { EmulatorCoreOptions, EmulatorCounters } from "./core.js";
export type { FaultOptions } from "./faults.js";
export type { EmulatorOptions, EmulatorTaskInfo, RunningEmulator } from "./server.js";
export { DEMO_CREDENTIALS, startEmulator } from "./server.js";
export type { EmulatorCredentials, EmulatorOutput, FaultKind, Operation } from "./types.js";
