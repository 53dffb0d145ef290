/**
 * The built `jimeng` bin, spawned against loopback emulators: every generation command on both providers,
 * the `--json` documents checked against zod schemas of the contract, every exit code (0/1/2/3/4/130), zero
 * requests for bad flags, and no secret anywhere in what the CLI printed. Needs `npm run build` first.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { emulatorSettings, runCli, whenStderr } from "../helpers/cli.js";

const BUILT = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Not the emulator's demo credentials, so that the secret scan means something. */
const CREDENTIALS = {
  accessKeyId: "AKLTe2eclitest00017",
  secretAccessKey: "e2e-cli-secret-5Qm9xV2kT7",
  sessionId: "e2eclisession4b8d1f6a",
};
const WRONG_SECRET = "e2e-cli-wrong-secret-8Hn3pL";

const STATES = ["queued", "running", "succeeded", "failed", "expired", "cancelled"] as const;
const taskDocument = z.strictObject({
  taskId: z.string().min(1),
  provider: z.enum(["visual", "session"]),
  model: z.string().min(1),
  status: z.enum(STATES),
  outputs: z.array(
    z.strictObject({
      url: z.string().optional(),
      file: z.string().optional(),
      bytes: z.number().int().nonnegative().optional(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      contentType: z.string().optional(),
    }),
  ),
  error: z
    .strictObject({
      code: z.union([z.string(), z.number()]),
      message: z.string().min(1),
      requestId: z.string().optional(),
    })
    .optional(),
  timings: z.strictObject({
    submittedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    polls: z.number().int().nonnegative(),
  }),
});
const submitDocument = z.strictObject({
  taskId: z.string().min(1),
  provider: z.enum(["visual", "session"]),
  model: z.string().min(1),
  kind: z.enum(["generate", "compose", "video"]),
});
const doctorDocument = z.strictObject({
  ok: z.boolean(),
  checks: z.array(
    z.strictObject({
      name: z.string(),
      status: z.enum(["ok", "warn", "fail", "skip"]),
      detail: z.string(),
      fix: z.string().optional(),
    }),
  ),
});

let fast: RunningEmulator;
let slow: RunningEmulator;
let still: RunningEmulator;
let root: string;
const captured: string[] = [];
let runs = 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  emulator?: RunningEmulator;
  env?: NodeJS.ProcessEnv;
  /** Called with the child once "submitted" appears on stderr. */
  onSubmitted?: (child: ChildProcess) => void;
}

/** Spawns the bin; each run gets its own config folder unless `env` names one. */
async function jimeng(args: string[], options: RunOptions = {}): Promise<Run> {
  runs++;
  const settings = emulatorSettings(options.emulator ?? fast, join(root, `config-${runs}`));
  // Only PATH and HOME of the test process: nothing else it has may reach the CLI.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: root, NO_COLOR: "1", ...settings };
  Object.assign(env, { JIMENG_POLL_INTERVAL: "5ms" }, options.env);
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const run = runCli(args, { cwd: root, env });
  const { onSubmitted } = options;
  if (onSubmitted)
    void whenStderr(run, (text) => /submitted task/.test(text)).then(
      (seen) => seen && onSubmitted(run.child),
    );
  const { code, stdout, stderr } = await run.exited;
  captured.push(stdout, stderr);
  return { code, stdout, stderr };
}

function json<T>(schema: z.ZodType<T>, run: Run): T {
  // Exactly one JSON document on stdout.
  expect(run.stdout.trim().split("\n")).toHaveLength(1);
  return schema.parse(JSON.parse(run.stdout));
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  root = mkdtempSync(join(tmpdir(), "jimeng-e2e-cli-"));
  [fast, slow, still] = await Promise.all([
    startEmulator({ credentials: CREDENTIALS, durations: { image: 5, video: 10 } }),
    startEmulator({ credentials: CREDENTIALS, durations: { image: 600_000, video: 600_000 } }),
    startEmulator({ credentials: CREDENTIALS }),
  ]);
});

afterAll(async () => {
  await Promise.all([fast?.stop(), slow?.stop(), still?.stop()]);
  if (root) rmSync(root, { recursive: true, force: true });
  // Nothing the CLI printed, on any stream of any run, holds a secret.
  expect(captured.length).toBeGreaterThan(10);
  const everything = captured.join("\n");
  for (const secret of [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionId, WRONG_SECRET]) {
    expect(everything).not.toContain(secret);
  }
});

describe.concurrent("jimeng generation commands (built bin, emulator over loopback)", () => {
  it.for(["visual", "session"] as const)(
    "generate on %s saves the outputs and prints the contract's document",
    async (provider) => {
      const out = join(root, `generate-${provider}`);
      const run = await jimeng([
        "--provider",
        provider,
        "--json",
        "generate",
        "a lighthouse at dusk",
        "-n",
        "2",
        "-o",
        out,
      ]);
      expect(run.code).toBe(0);
      const document = json(taskDocument, run);
      expect(document).toMatchObject({ provider, status: "succeeded" });
      expect(document.outputs).toHaveLength(2);
      for (const output of document.outputs) {
        expect(output.file?.startsWith(out)).toBe(true);
        expect(sha256(output.file as string)).toBe(output.sha256);
        expect(output.contentType).toBe("image/png");
      }
      expect(run.stderr).toContain(`submitted task ${document.taskId}`);
    },
  );

  it.for(["visual", "session"] as const)(
    "submit on %s returns the id at once, and result --wait --download picks it up by id alone",
    async (provider) => {
      const configDir = join(root, `shared-config-${provider}`);
      const env = { JIMENG_CONFIG_DIR: configDir };
      const submitted = await jimeng(
        ["--provider", provider, "--json", "submit", "generate", "a red fox in snow", "-n", "1"],
        { env },
      );
      expect(submitted.code).toBe(0);
      const { taskId, kind } = json(submitDocument, submitted);
      expect(kind).toBe("generate");

      // No --provider and no --model: the local task list knows them.
      const out = join(root, `result-${provider}`);
      const result = await jimeng(["--json", "result", taskId, "--wait", "--download", "-o", out], { env });
      expect(result.code).toBe(0);
      const document = json(taskDocument, result);
      expect(document).toMatchObject({ taskId, provider, status: "succeeded" });
      expect(sha256(document.outputs[0]?.file as string)).toBe(document.outputs[0]?.sha256);
    },
  );

  it("a failed generation exits 1 and still prints the document, with the provider's code and request id", async () => {
    const run = await jimeng(["--json", "generate", "a cat [fail:50411]"]);
    expect(run.code).toBe(1);
    const document = json(taskDocument, run);
    expect(document.status).toBe("failed");
    expect(document.error).toMatchObject({ code: 50411 });
    expect(document.error?.requestId).toBeTruthy();
    // The code is on the error line once (the message names it; no "[50411]" or "code 50411" repeat).
    expect(run.stderr).toContain("error 50411");
    expect(run.stderr.match(/50411/g)).toHaveLength(1);
  });

  it("a flag the model does not accept exits 2 naming the flag and the model, and sends nothing", async () => {
    const before = still.counters.requests;
    const runs = await Promise.all([
      jimeng(["generate", "a cat", "--duration", "5"], { emulator: still }),
      jimeng(["--json", "video", "waves", "-m", "no-such-model"], { emulator: still }),
      jimeng(["result", "7392616336519618328"], { emulator: still }),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2]);
    expect(runs[0]?.stderr).toContain("--duration: model jimeng_t2i_v40 does not accept --duration");
    expect(JSON.parse(runs[1]?.stdout ?? "").error.issues[0].path).toBe("--model");
    expect(runs[2]?.stderr).toContain("add --model");
    expect(still.counters.requests).toBe(before);
  });

  it("a rejected signature exits 3", async () => {
    const run = await jimeng(["generate", "a cat"], { env: { VOLC_SECRETKEY: WRONG_SECRET } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("SignatureDoesNotMatch");
  });

  it("--timeout exits 4 with the task id and the command that resumes it", async () => {
    const run = await jimeng(["--json", "generate", "a slow cat", "--timeout", "100ms"], { emulator: slow });
    expect(run.code).toBe(4);
    const document = json(taskDocument, run);
    expect(document.error?.code).toBe("TIMEOUT");
    expect(run.stderr).toContain(`jimeng result ${document.taskId} --wait --download`);
  });

  it("Ctrl-C after the submit exits 130 and prints the task id", async () => {
    const run = await jimeng(["generate", "a slow cat"], {
      emulator: slow,
      onSubmitted: (child) => child.kill("SIGINT"),
    });
    expect(run.code).toBe(130);
    const id = /submitted task (\S+)/.exec(run.stderr)?.[1];
    expect(run.stderr).toContain(`interrupted: task ${id} was submitted`);
  });

  it("doctor passes against good credentials and exits 3 on a rejected signature", async () => {
    const [good, bad] = await Promise.all([
      jimeng(["--json", "doctor"]),
      jimeng(["--json", "doctor"], { env: { VOLC_SECRETKEY: WRONG_SECRET } }),
    ]);
    expect(good.code).toBe(0);
    expect(json(doctorDocument, good).ok).toBe(true);
    expect(bad.code).toBe(3);
    const checks = json(doctorDocument, bad).checks;
    expect(checks.find((item) => item.name === "visual credentials")).toMatchObject({ status: "fail" });
    expect(checks.find((item) => item.name === "session liveness")).toMatchObject({ status: "ok" });
  });
});
