/**
 * The secret key and the session ids appear in 0 bytes of anything the CLI produces — stdout, stderr (also with
 * --verbose and on failures), report.json, the journal, the task list — and the config file is 0600 in a 0700
 * folder.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { cli, filesBelow, SECRETS, summary, tempRoot } from "./helpers.js";

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
const captured: { name: string; text: string }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    credentials: SECRETS,
    durations: { image: 5, video: 10 },
    faults: { poll: { serverError: 0.2 } },
  });
  root = tempRoot("jimeng-secrets-");
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

const leaks = (text: string) =>
  [SECRETS.secretAccessKey, SECRETS.sessionId].filter((secret) => text.includes(secret)).length;

describe("secrets", () => {
  afterAll(() => {
    const bytes = captured.reduce((sum, c) => sum + Buffer.byteLength(c.text), 0);
    const leaked = captured.filter((c) => leaks(c.text) > 0).map((c) => c.name);
    summary(
      `secrets: ${captured.length} outputs scanned (${bytes} bytes), ${leaked.length} containing a secret key or session id`,
    );
  });

  it("never print a secret, whatever the command and however it ends", { timeout: 60_000 }, async () => {
    const configDir = join(root.dir, "config");
    const out = join(root.dir, "out");
    writeFileSync(
      join(root.dir, "jobs.jsonl"),
      [
        JSON.stringify({ id: "ok", prompt: "a cat", count: 1 }),
        JSON.stringify({ id: "fails", prompt: "a cat [fail:50511]", count: 1 }),
        JSON.stringify({ id: "session", provider: "session", prompt: "a dog", count: 1 }),
      ].join("\n"),
    );
    const runs: [string, string[], NodeJS.ProcessEnv?][] = [
      ["generate", ["generate", "a cat", "-n", "1", "-o", out]],
      ["generate --json --verbose", ["--json", "--verbose", "generate", "a cat", "-n", "1", "-o", out]],
      [
        "generate (session)",
        ["--provider", "session", "--verbose", "generate", "a cat", "-n", "1", "-o", out],
      ],
      ["generate that fails", ["--verbose", "generate", "a cat [fail:50511]", "-o", out]],
      [
        "generate rejected",
        ["--verbose", "--provider", "session", "generate", "x [reject:-2009]", "-o", out],
      ],
      ["video", ["video", "waves", "--duration", "5", "-o", out]],
      ["submit", ["--json", "submit", "generate", "a fox"]],
      ["result", ["--json", "result", "7392616336519618328", "--model", "jimeng_t2i_v40"]],
      ["batch", ["--verbose", "batch", join(root.dir, "jobs.jsonl"), "-o", out]],
      ["batch --json", ["--json", "batch", join(root.dir, "jobs.jsonl"), "-o", out, "--resume"]],
      ["doctor", ["--verbose", "doctor"]],
      ["doctor --json", ["--json", "doctor"]],
      ["config set", ["config", "set", "secretAccessKey", SECRETS.secretAccessKey]],
      ["config set session", ["config", "set", "sessionId", `${SECRETS.sessionId},us-${SECRETS.sessionId}`]],
      ["config list", ["config", "list"]],
      ["config list --json", ["--json", "config", "list"]],
      ["config get", ["config", "get", "secretAccessKey"]],
      [
        "wrong key",
        ["--verbose", "generate", "a cat"],
        { VOLC_SECRETKEY: `${SECRETS.secretAccessKey}-wrong` },
      ],
      [
        "expired session",
        ["--provider", "session", "generate", "a cat"],
        { JIMENG_SESSION_ID: `expired-${SECRETS.sessionId}` },
      ],
    ];
    for (const [name, argv, env] of runs) {
      const run = await cli(argv, { emulator, configDir, ...(env ? { env } : {}) });
      captured.push({ name: `${name} (stdout)`, text: run.out }, { name: `${name} (stderr)`, text: run.err });
    }
    for (const file of filesBelow(out).filter((f) => f.endsWith(".json") || f.endsWith(".jsonl"))) {
      captured.push({ name: file, text: readFileSync(join(out, file), "utf8") });
    }
    for (const file of filesBelow(configDir).filter((f) => f !== "config.json")) {
      captured.push({ name: `config/${file}`, text: readFileSync(join(configDir, file), "utf8") });
    }

    expect(captured.some((c) => c.name.includes("journal"))).toBe(true);
    expect(captured.filter((c) => leaks(c.text) > 0).map((c) => c.name)).toEqual([]);
    expect(statSync(join(configDir, "config.json")).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
  });
});
