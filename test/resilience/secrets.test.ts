/**
 * The secret key and the session ids appear in 0 bytes of anything the CLI produces — stdout, stderr (also with
 * --verbose and on failures), report.json, the journal, the task list — and the config file is 0600 in a 0700
 * folder.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import {
  binEnv,
  cli,
  filesBelow,
  mapPool,
  SECRETS,
  SecretScanner,
  spawnCli,
  summary,
  tempRoot,
} from "./helpers.js";

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
  [SECRETS.secretAccessKey, SECRETS.sessionId, SECRETS.arkApiKey].filter((secret) => text.includes(secret))
    .length;

describe("secrets", () => {
  afterAll(() => {
    const bytes = captured.reduce((sum, c) => sum + Buffer.byteLength(c.text), 0);
    const leaked = captured.filter((c) => leaks(c.text) > 0).map((c) => c.name);
    summary(
      `secrets: ${captured.length} outputs scanned (${bytes} bytes), ${leaked.length} containing a secret key, session id or Ark API key`,
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
      ["generate (ark)", ["--provider", "ark", "--verbose", "generate", "a cat", "-n", "1", "-o", out]],
      ["video (ark)", ["--provider", "ark", "--verbose", "video", "waves", "-o", out]],
      ["submit", ["--json", "submit", "generate", "a fox"]],
      ["result", ["--json", "result", "7392616336519618328", "--model", "jimeng_t2i_v40"]],
      ["batch", ["--verbose", "batch", join(root.dir, "jobs.jsonl"), "-o", out]],
      ["batch --json", ["--json", "batch", join(root.dir, "jobs.jsonl"), "-o", out, "--resume"]],
      ["doctor", ["--verbose", "doctor"]],
      ["doctor --json", ["--json", "doctor"]],
      ["config set", ["config", "set", "secretAccessKey", SECRETS.secretAccessKey]],
      ["config set ark", ["config", "set", "arkApiKey", SECRETS.arkApiKey]],
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

/**
 * The same promise kept by the built bin as a process of its own (anything written straight to the real
 * stdout/stderr counts), with secrets read from the environment and, in a second round, only from the config
 * store; scanned for each secret as written, base64- and percent-encoded, in every stream and every file.
 */
describe("secrets through the built CLI", () => {
  it("appear in 0 bytes of any stdout, stderr, report, journal or task list; the config file is 0600", {
    timeout: 90_000,
  }, async () => {
    const dir = join(root.dir, "spawned");
    const configDir = join(dir, "config");
    const out = join(dir, "out");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "jobs.jsonl"),
      [
        JSON.stringify({ id: "ok", prompt: "spawned cat", count: 1 }),
        JSON.stringify({ id: "fails", prompt: "spawned cat [fail:50511]", count: 1 }),
        JSON.stringify({ id: "session", provider: "session", prompt: "spawned dog", count: 1 }),
      ].join("\n"),
    );
    const scanner = new SecretScanner({
      secretAccessKey: SECRETS.secretAccessKey,
      sessionId: SECRETS.sessionId,
      secondSessionId: `us-${SECRETS.sessionId}`,
    });
    const env = binEnv(emulator, configDir);
    const run = async (name: string, argv: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => {
      const result = await spawnCli(argv, {
        env: { ...env, ...extra },
        cwd: dir,
        ...(input !== undefined ? { input } : {}),
      });
      scanner.scan(`${name} (stdout)`, result.out);
      scanner.scan(`${name} (stderr)`, result.err);
      return result;
    };

    // Secrets from the environment; independent runs, a few at a time.
    const submitted = await run("submit --json", ["--json", "--verbose", "submit", "generate", "a fox"]);
    const taskId = (JSON.parse(submitted.out) as { taskId: string }).taskId;
    const independent: [string, string[], NodeJS.ProcessEnv?][] = [
      ["generate --verbose", ["--verbose", "generate", "a cat", "-n", "1", "-o", out]],
      [
        "generate --json --verbose (session)",
        ["--json", "--verbose", "--provider", "session", "generate", "a cat", "-n", "1", "-o", out],
      ],
      ["generate that fails", ["--verbose", "generate", "a cat [fail:50511]", "-o", out]],
      ["video --verbose", ["--verbose", "video", "waves", "--duration", "5", "-o", out]],
      [
        "result --wait --download",
        ["--verbose", "--json", "result", taskId, "--wait", "--download", "-o", out],
      ],
      ["doctor --verbose", ["--verbose", "doctor"]],
      ["doctor --json", ["--json", "doctor"]],
      [
        "wrong secret key",
        ["--verbose", "generate", "a cat"],
        { VOLC_SECRETKEY: `${SECRETS.secretAccessKey}-wrong` },
      ],
      [
        "unknown session",
        ["--verbose", "--provider", "session", "generate", "a cat"],
        { JIMENG_SESSION_ID: `x${SECRETS.sessionId}` },
      ],
      ["bad flag", ["--verbose", "generate", "a cat", "--ratio", "7:3"]],
    ];
    await mapPool(independent, 3, ([name, argv, extra]) => run(name, argv, extra));
    await run("batch --verbose", ["--verbose", "batch", join(dir, "jobs.jsonl"), "-o", join(out, "batch")]);
    await run("batch --json --resume --retry-failed", [
      "--json",
      "batch",
      join(dir, "jobs.jsonl"),
      "-o",
      join(out, "batch"),
      "--resume",
      "--retry-failed",
    ]);

    const codes = new Map<string, number | null>();
    // Secrets only in the config store (typed on stdin, never in argv or the environment).
    const storeOnly = { VOLC_SECRETKEY: undefined, JIMENG_SESSION_ID: undefined };
    await run(
      "config set secretAccessKey -",
      ["config", "set", "secretAccessKey", "-"],
      storeOnly,
      SECRETS.secretAccessKey,
    );
    await run(
      "config set sessionId -",
      ["config", "set", "sessionId", "-"],
      storeOnly,
      `${SECRETS.sessionId},us-${SECRETS.sessionId}`,
    );
    for (const [name, argv] of [
      ["config list", ["config", "list"]],
      ["config list --json", ["--json", "config", "list"]],
      ["config get secretAccessKey", ["config", "get", "secretAccessKey"]],
      ["config get sessionId --json", ["--json", "config", "get", "sessionId"]],
      ["generate --verbose (config store)", ["--verbose", "generate", "a cat", "-n", "1", "-o", out]],
      [
        "session generate --verbose (config store)",
        ["--verbose", "--provider", "session", "generate", "a cat", "-n", "1", "-o", out],
      ],
      ["doctor --verbose (config store)", ["--verbose", "doctor"]],
    ] as const) {
      codes.set(name, (await run(name, [...argv], storeOnly)).code);
    }

    const streams = scanner.sources;
    scanner.scanTree(out);
    scanner.scanTree(configDir, (file) => file === "config.json");
    const journals = filesBelow(out).filter((file) => file.endsWith("journal.jsonl")).length;
    const configMode = statSync(join(configDir, "config.json")).mode & 0o777;
    const dirMode = statSync(configDir).mode & 0o777;
    summary(
      `secrets (built CLI): ${streams} streams and ${scanner.sources - streams} files scanned (${scanner.bytesScanned} bytes, ` +
        `${journals} journal), ${scanner.leakedBytes} bytes of a secret key or session id, config file ${configMode.toString(8)} in a ${dirMode.toString(8)} folder`,
    );

    // The store's secrets were really used (signed requests and session calls succeeded).
    expect(codes.get("generate --verbose (config store)")).toBe(0);
    expect(codes.get("session generate --verbose (config store)")).toBe(0);
    expect(journals).toBeGreaterThan(0);
    expect(existsSync(join(out, "batch", "report.json"))).toBe(true);
    expect(scanner.leaks).toEqual([]);
    expect(configMode).toBe(0o600);
    expect(dirMode).toBe(0o700);
  });
});

describe("the secret scanner", () => {
  it("finds a secret as written, base64- or percent-encoded", () => {
    const scanner = new SecretScanner({ key: "s3cret/key+1" });
    scanner.scan("plain", "x s3cret/key+1 y");
    scanner.scan("base64", Buffer.from("s3cret/key+1").toString("base64"));
    scanner.scan("url", `?k=${encodeURIComponent("s3cret/key+1")}`);
    scanner.scan("clean", "s3cret/key 1");
    expect(scanner.leaks.map((leak) => leak.split(" at ")[0])).toEqual([
      "key in plain",
      "key in base64",
      "key in url",
    ]);
  });
});
