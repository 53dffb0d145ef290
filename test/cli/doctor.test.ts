/**
 * `jimeng doctor`: the pure verdicts (Node version, what the signed probe's answer means, the exit code), the
 * config permission check on real files, and whole runs in-process against the emulator.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Check,
  configChecks,
  doctorExitCode,
  judgeVisualProbe,
  nodeCheck,
} from "../../src/cli/commands/doctor.js";
import { main } from "../../src/cli/main.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { ApiError, AuthError, NetworkError, RateLimitError } from "../../src/errors.js";
import { fakeTerminal } from "./helpers.js";

const CREDENTIALS = {
  accessKeyId: "AKLTdoctortest00055",
  secretAccessKey: "doctor-test-secret-Rt65",
  sessionId: "doctortestsession20cd",
};
const ENDPOINT = "https://visual.example";

function verdict(error?: unknown): Record<string, string> {
  const checks = judgeVisualProbe(ENDPOINT, error === undefined ? { answer: "not_found" } : { error });
  return Object.fromEntries(checks.map((item) => [item.name, item.status]));
}

describe("doctor's verdicts", () => {
  it("needs Node 20.18.1 or newer", () => {
    expect(nodeCheck("20.18.1").status).toBe("ok");
    expect(nodeCheck("22.0.0").status).toBe("ok");
    expect(nodeCheck("20.18.0").status).toBe("fail");
    expect(nodeCheck("18.20.4").fix).toContain("nodejs.org");
  });

  it("reads a business answer to the probe, even 50215 invalid input, as a signature accepted", () => {
    expect(verdict()).toEqual({ "visual endpoint": "ok", "visual credentials": "ok" });
    const invalid = new ApiError("Input invalid", { provider: "visual", httpStatus: 400, code: 50215 });
    expect(verdict(invalid)).toEqual({ "visual endpoint": "ok", "visual credentials": "ok" });
  });

  it("reads a gateway auth error as a signature rejected, and 50400 as accepted but not allowed", () => {
    const rejected = new AuthError("gateway", {
      provider: "visual",
      httpStatus: 401,
      code: "SignatureDoesNotMatch",
    });
    const [, creds] = judgeVisualProbe(ENDPOINT, { error: rejected });
    expect(creds).toMatchObject({ status: "fail", area: "auth" });
    expect(creds?.detail).toContain("signature rejected");
    const denied = new AuthError("denied", {
      provider: "visual",
      httpStatus: 400,
      code: 50400,
      hint: "enable it",
    });
    const [, access] = judgeVisualProbe(ENDPOINT, { error: denied });
    expect(access?.detail).toContain("signature accepted, but access was denied");
    expect(access?.fix).toBe("enable it");
  });

  it("reads throttling as accepted (a warning) and a connection failure as an unreachable endpoint", () => {
    const throttled = new RateLimitError("slow down", { provider: "visual", httpStatus: 429, code: 50429 });
    expect(verdict(throttled)).toEqual({ "visual endpoint": "ok", "visual credentials": "warn" });
    const refused = new NetworkError("ECONNREFUSED", { notSent: true });
    expect(verdict(refused)).toEqual({ "visual endpoint": "fail", "visual credentials": "skip" });
  });

  it("exits 3 for config or credential failures, 1 for other failures, 0 otherwise", () => {
    const item = (status: Check["status"], area: Check["area"]): Check => ({
      name: "x",
      detail: "",
      status,
      area,
    });
    expect(doctorExitCode([item("ok", "auth"), item("warn", "auth"), item("skip", "config")])).toBe(0);
    expect(doctorExitCode([item("fail", "network")])).toBe(1);
    expect(doctorExitCode([item("fail", "network"), item("fail", "auth")])).toBe(3);
    expect(doctorExitCode([item("fail", "config")])).toBe(3);
  });
});

let emulator: RunningEmulator;
let root: string;

beforeAll(async () => {
  emulator = await startEmulator({ credentials: CREDENTIALS });
  root = mkdtempSync(join(tmpdir(), "jimeng-doctor-"));
});

afterAll(async () => {
  await emulator.stop();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.platform === "win32")("the config permission check", () => {
  it("fails a config file others can read, with the chmod that fixes it", () => {
    const dir = join(root, "loose");
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, "config.json"), "{}");
    chmodSync(join(dir, "config.json"), 0o644);
    const checks = configChecks({ JIMENG_CONFIG_DIR: dir });
    expect(checks[0]).toMatchObject({ name: "config permissions", status: "fail", area: "config" });
    expect(checks[0]?.fix).toContain("chmod 600");
  });

  it("passes a 0600 file in a 0700 folder", () => {
    const dir = join(root, "tight");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, "config.json"), '{"region":"cn-north-1"}', { mode: 0o600 });
    expect(configChecks({ JIMENG_CONFIG_DIR: dir }).map((item) => item.status)).toEqual(["ok", "ok"]);
  });
});

async function doctor(env: NodeJS.ProcessEnv, json = true) {
  const t = fakeTerminal({
    env: {
      JIMENG_CONFIG_DIR: join(root, "none"),
      JIMENG_VISUAL_ENDPOINT: emulator.url,
      JIMENG_SESSION_ENDPOINT: emulator.url,
      VOLC_ACCESSKEY: CREDENTIALS.accessKeyId,
      VOLC_SECRETKEY: CREDENTIALS.secretAccessKey,
      JIMENG_SESSION_ID: CREDENTIALS.sessionId,
      ...env,
    },
  });
  const code = await main(json ? ["--json", "doctor"] : ["doctor"], t.io);
  const status = (name: string) =>
    json
      ? JSON.parse(t.out()).checks.find((item: { name: string }) => item.name === name)?.status
      : undefined;
  return { code, out: t.out(), err: t.err(), status };
}

describe.concurrent("jimeng doctor against the emulator", () => {
  it("passes every check with good credentials on both providers", async () => {
    const run = await doctor({}, false);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/✔ visual credentials\s+signature accepted/);
    expect(run.out).toMatch(/✔ session liveness\s+session #1 \(cn\), account \w+ is live/);
    expect(run.out).toContain("All checks passed.");
  });

  it("exits 3 with a fix when the session is not live", async () => {
    const run = await doctor({ JIMENG_SESSION_ID: "doctor-dead-session" });
    expect(run.code).toBe(3);
    expect(run.status("session liveness")).toBe("fail");
    expect(run.status("visual credentials")).toBe("ok");
    expect(run.out).not.toContain("doctor-dead-session");
  });

  it("exits 1 when an endpoint does not answer", async () => {
    const run = await doctor({ JIMENG_VISUAL_ENDPOINT: "http://127.0.0.1:9", JIMENG_SESSION_ID: undefined });
    expect(run.code).toBe(1);
    expect(run.status("visual endpoint")).toBe("fail");
    expect(run.status("session credentials")).toBe("skip");
  });

  it("exits 3 when no credentials are configured", async () => {
    const run = await doctor({
      VOLC_ACCESSKEY: undefined,
      VOLC_SECRETKEY: undefined,
      JIMENG_SESSION_ID: undefined,
    });
    expect(run.code).toBe(3);
    expect(run.status("credentials")).toBe("fail");
  });
});
