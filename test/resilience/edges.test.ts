/**
 * Security at the edges: what a server, a file or a folder sends us never reaches the terminal raw, a file
 * outside `-o`, or a secret in any output. Each attack is replayed against the built bin (`npm run build`
 * first), through a hostile loopback proxy in front of the emulator where a server has to misbehave.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";
import { BIN, binEnv, SecretScanner, spawnCli, tempRoot } from "./helpers.js";
import { type HostileProxy, jsonOf, sendJson, startHostileProxy } from "./hostile.js";

const HOSTILE_MESSAGE = "x\u001b[2K\r✔ [1/1] a: succeeded\n::error::pwned\u0007";

let emulator: RunningEmulator;
let root: ReturnType<typeof tempRoot>;
let case_ = 0;

beforeAll(async () => {
  emulator = await startEmulator({ durations: { image: 5, video: 10 } });
  root = tempRoot("jimeng-edges-");
});
afterAll(async () => {
  await emulator.stop();
  root.cleanup();
});

/** A fresh folder for one case, with its own config folder. */
function caseDir(): { dir: string; configDir: string } {
  const dir = join(root.dir, `case-${++case_}`);
  mkdirSync(dir, { recursive: true });
  return { dir, configDir: join(dir, "config") };
}

function envFor(configDir: string, endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return binEnv(emulator, configDir, {
    JIMENG_VISUAL_ENDPOINT: endpoint,
    JIMENG_SESSION_ENDPOINT: endpoint,
    ...extra,
  });
}

async function withProxy<T>(
  rules: Parameters<typeof startHostileProxy>[1],
  work: (proxy: HostileProxy) => Promise<T>,
) {
  const proxy = await startHostileProxy(emulator.url, rules);
  try {
    return await work(proxy);
  } finally {
    await proxy.close();
  }
}

/** Rules that replace the message of every failed Visual GetResult answer. */
function visualFailureMessage(message: string): Parameters<typeof startHostileProxy>[1] {
  return {
    reply(exchange) {
      if (!exchange.path.includes("CVSync2AsyncGetResult")) return undefined;
      const json = jsonOf(exchange.body);
      if (!json || json.code === 10000) return undefined;
      return JSON.stringify({ ...json, message });
    },
  };
}

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("1. terminal and CI-log injection", () => {
  it("escapes a server's error message on the terminal, and keeps it exact in --json", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    await withProxy(visualFailureMessage(HOSTILE_MESSAGE), async (proxy) => {
      const env = envFor(configDir, proxy.url);
      const human = await spawnCli(["--verbose", "generate", "a cat [fail:50511]", "-o", dir], {
        env,
        cwd: dir,
      });
      expect(human.code).toBe(1);
      expect(human.err).not.toMatch(RAW_CONTROL);
      expect(human.err.split("\n").filter((line) => /^(::error::|✔ \[1\/1\])/.test(line))).toEqual([]);
      expect(human.err).toContain("\\x1b[2K\\r✔ [1/1] a: succeeded\\n::error::pwned\\x07");
      // The code is shown once, not `[50511] [50511]`.
      expect(human.err.match(/50511/g)?.length ?? 0).toBeLessThanOrEqual(1);
      // One "what to do": the provider's explanation says it, so no second, generic hint.
      expect(human.err).toContain("resubmitting");
      expect(human.err).not.toContain("hint:");

      // The same message in a batch: no line erased or faked in the plain progress lines and the summary.
      const jobs = join(dir, "jobs.jsonl");
      writeFileSync(jobs, `${JSON.stringify({ id: "a", prompt: "a cat [fail:50511]", count: 1 })}\n`);
      const batch = await spawnCli(["batch", jobs, "-o", join(dir, "batch")], { env, cwd: dir });
      expect(batch.code).toBe(1);
      expect(batch.err).not.toMatch(RAW_CONTROL);
      expect(batch.err.split("\n").filter((line) => /^(::error::|✔ \[1\/1\])/.test(line))).toEqual([]);
      expect(batch.err).toContain("::error::pwned\\x07");

      const json = await spawnCli(["--json", "generate", "a cat [fail:50511]", "-o", dir], { env, cwd: dir });
      expect(json.code).toBe(1);
      const document = JSON.parse(json.out) as { error: { message: string } };
      expect(document.error.message).toContain(HOSTILE_MESSAGE);
      expect(json.err).not.toMatch(RAW_CONTROL);
    });
  });
});

const HOSTILE_ID = "h1 $(touch pwned) ; echo 'owned'";

/** A session server whose task ids are `id` and whose tasks never finish. */
function sessionIdsAre(id: string): Parameters<typeof startHostileProxy>[1] {
  return {
    answer(req, res) {
      if (req.method !== "GET" || !req.path.includes("/tasks/")) return false;
      return sendJson(res, {
        history_id: id,
        task_type: "image",
        status: 20,
        fail_code: 0,
        item_count: 0,
        results: [],
        raw_data: null,
      });
    },
    reply(exchange) {
      if (!exchange.path.startsWith("/v1/async/images/generations")) return undefined;
      const json = jsonOf(exchange.body);
      return json ? JSON.stringify({ ...json, history_id: id }) : undefined;
    },
  };
}

describe("1. printed commands", () => {
  it("shell-quotes a hostile task id in the resume command, which then runs exactly as printed", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const out = join(dir, "my out");
    await withProxy(sessionIdsAre(HOSTILE_ID), async (proxy) => {
      const run = await spawnCli(
        ["--provider", "session", "generate", "a fox", "-n", "1", "--timeout", "1s", "-o", out],
        { env: envFor(configDir, proxy.url), cwd: dir },
      );
      expect(run.code).toBe(4);
      const command = /`(jimeng result .*)`$/m.exec(run.err)?.[1];
      expect(command).toBeDefined();
      // `jimeng` stands in as a function that prints each argument it gets on a line of its own.
      const pasted = spawnSync(
        "sh",
        ["-c", `jimeng() { for a in "$@"; do printf '%s\\n' "$a"; done; }\n${command}`],
        {
          cwd: dir,
          encoding: "utf8",
        },
      );
      expect(pasted.stdout.split("\n").slice(0, -1)).toEqual([
        "result",
        HOSTILE_ID,
        "--wait",
        "--download",
        "-o",
        out,
      ]);
      expect(existsSync(join(dir, "pwned"))).toBe(false);
    });
  });
});

describe("2. files written through symlinks", () => {
  const jobs = (dir: string, prompt: string) => {
    const file = join(dir, "jobs.jsonl");
    writeFileSync(file, `${JSON.stringify({ id: "a", prompt, count: 1 })}\n`);
    return file;
  };

  it("refuses a report.json that is a symlink, writes nothing through it and sends nothing", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const out = join(dir, "out");
    mkdirSync(out);
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(out, "report.json"));
    const before = emulator.counters.submits;
    const run = await spawnCli(["--verbose", "batch", jobs(dir, "symlinked report"), "-o", out], {
      env: envFor(configDir, emulator.url),
      cwd: dir,
    });
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("refusing to write the report through a symlink");
    expect(run.err).not.toMatch(/\n\s+at /);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(emulator.counters.submits).toBe(before);
  });

  it("refuses a journal that is a symlink on --resume, and leaves its target alone", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const out = join(dir, "out");
    mkdirSync(join(out, ".jimeng"), { recursive: true });
    const victim = join(dir, "victim.jsonl");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(out, ".jimeng", "journal.jsonl"));
    const before = emulator.counters.submits;
    const run = await spawnCli(["batch", jobs(dir, "symlinked journal"), "-o", out, "--resume"], {
      env: envFor(configDir, emulator.url),
      cwd: dir,
    });
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("refusing to write the journal through a symlink");
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(emulator.counters.submits).toBe(before);
  });

  it("writes report and journal 0600; a file where <out>/.jimeng should be is a message, not a stack trace", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const out = join(dir, "out");
    const ok = await spawnCli(["batch", jobs(dir, "private files"), "-o", out], {
      env: envFor(configDir, emulator.url),
      cwd: dir,
    });
    expect(ok.code).toBe(0);
    expect(statSync(join(out, "report.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, ".jimeng", "journal.jsonl")).mode & 0o777).toBe(0o600);

    const blocked = join(dir, "blocked");
    mkdirSync(blocked);
    writeFileSync(join(blocked, ".jimeng"), "not a folder");
    const run = await spawnCli(["--verbose", "batch", jobs(dir, "blocked folder"), "-o", blocked], {
      env: envFor(configDir, emulator.url),
      cwd: dir,
    });
    expect(run.code).toBe(1);
    expect(run.err).toContain("it is a file, not a folder");
    expect(run.err).not.toMatch(/\n\s+at /);
  });
});

describe("3. secrets a server echoes", () => {
  it("are redacted, raw, base64 and percent-encoded, from every stream, report.json and the journal", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const out = join(dir, "out");
    const sts = "STS-token-for-the-edges-5f1c2e";
    const { secretAccessKey, sessionId } = emulator.credentials;
    const echo = [
      `X-Security-Token=${sts}`,
      `key=${Buffer.from(secretAccessKey).toString("base64")}`,
      `sid=${encodeURIComponent(`${sessionId}/é`)}`,
      `blob=${Buffer.from(`session=${sessionId}`).toString("base64")}`,
      `tok=${Buffer.from(`xx${sts}`).toString("base64url")}`,
    ].join(" ");
    const file = join(dir, "jobs.jsonl");
    writeFileSync(file, `${JSON.stringify({ id: "echo", prompt: "an echo [fail:50511]", count: 1 })}\n`);
    const scanner = new SecretScanner({ secretAccessKey, sessionId, sts });
    await withProxy(visualFailureMessage(echo), async (proxy) => {
      const env = envFor(configDir, proxy.url, { VOLC_SESSION_TOKEN: sts });
      for (const argv of [
        ["--verbose", "batch", file, "-o", out],
        ["--json", "batch", file, "-o", out, "--resume", "--retry-failed"],
        ["--verbose", "generate", "an echo [fail:50511]", "-o", out],
      ]) {
        const run = await spawnCli(argv, { env, cwd: dir });
        expect(run.code).toBe(1);
        expect(run.err).toContain("X-Security-Token=[redacted]");
        scanner.scan(`${argv.join(" ")} (stdout)`, run.out);
        scanner.scan(`${argv.join(" ")} (stderr)`, run.err);
      }
    });
    const report = readFileSync(join(out, "report.json"), "utf8");
    const journal = readFileSync(join(out, ".jimeng", "journal.jsonl"), "utf8");
    expect(report).toContain("[redacted]");
    expect(journal).toContain("[redacted]");
    scanner.scan("report.json", report);
    scanner.scan("journal", journal);
    scanner.scanTree(configDir, (f) => f === "config.json");
    // Base64 copies echoed inside longer values (any alignment) are gone too.
    for (const forbidden of [
      Buffer.from(`session=${sessionId}`).toString("base64").slice(12, 30),
      Buffer.from(`xx${sts}`).toString("base64url").slice(4, 30),
    ]) {
      expect(report + journal).not.toContain(forbidden);
    }
    expect(scanner.leaks).toEqual([]);
  });
});

const BIG_ID = "12345678901234567891";

describe("8. ids beyond 2^53", () => {
  it("keep every digit for the session provider: a bare-number history_id is polled as sent", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    let real: string | undefined;
    const rules: Parameters<typeof startHostileProxy>[1] = {
      forward: (req) => ({ path: real ? req.path.replace(BIG_ID, real) : req.path, body: req.body }),
      reply(exchange) {
        const text = exchange.body.toString("utf8");
        if (exchange.path.startsWith("/v1/async/images/generations")) {
          real = String(jsonOf(exchange.body)?.history_id);
        }
        return real ? text.replaceAll(`"history_id":"${real}"`, `"history_id":${BIG_ID}`) : undefined;
      },
    };
    await withProxy(rules, async (proxy) => {
      const run = await spawnCli(
        ["--json", "--provider", "session", "generate", "big ids", "-n", "1", "-o", dir],
        {
          env: envFor(configDir, proxy.url),
          cwd: dir,
        },
      );
      expect(run.code).toBe(0);
      expect((JSON.parse(run.out) as { taskId: string }).taskId).toBe(BIG_ID);
    });
  });

  it("keep every digit for the Visual API: a bare-number task_id is sent back as the same digits", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const polled: string[] = [];
    const rules: Parameters<typeof startHostileProxy>[1] = {
      answer(req, res) {
        if (!req.path.includes("CVSync2AsyncGetResult")) return false;
        const taskId = /"task_id"\s*:\s*"?(\d+)/.exec(req.body.toString("utf8"))?.[1] ?? "";
        polled.push(taskId);
        if (taskId !== BIG_ID) return sendJson(res, { code: 50400, message: "no such task", data: null });
        return sendJson(res, {
          code: 10000,
          message: "Success",
          request_id: "20261201000000AAAAAAAAAAAAAAAAAAAA",
          data: {
            status: "done",
            image_urls: null,
            binary_data_base64: [proceduralPng("big").toString("base64")],
          },
        });
      },
      reply(exchange) {
        if (!exchange.path.includes("CVSync2AsyncSubmitTask")) return undefined;
        return exchange.body.toString("utf8").replace(/"task_id":"\d+"/, `"task_id":${BIG_ID}`);
      },
    };
    await withProxy(rules, async (proxy) => {
      const run = await spawnCli(["--json", "generate", "big ids", "-n", "1", "-o", dir], {
        env: envFor(configDir, proxy.url),
        cwd: dir,
      });
      expect(run.code).toBe(0);
      expect((JSON.parse(run.out) as { taskId: string }).taskId).toBe(BIG_ID);
      expect(polled).toEqual([BIG_ID]);
    });
  });
});

describe("7. batch file encoding", () => {
  it("refuses a GBK prompts.txt with file:line, exit 2, nothing sent; a UTF-8 BOM is fine", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const gbk = join(dir, "prompts.txt");
    // "樱花下的橘猫" (an orange cat under cherry blossoms) in GBK, on line 2.
    writeFileSync(
      gbk,
      Buffer.concat([
        Buffer.from("a dog\n"),
        Buffer.from("d3a3bba8cfc2b5c4e9d9c3a8", "hex"),
        Buffer.from("\n"),
      ]),
    );
    const jsonl = join(dir, "jobs.jsonl");
    writeFileSync(
      jsonl,
      Buffer.concat([Buffer.from('{"prompt": "'), Buffer.from([0xb0, 0xa1]), Buffer.from('x"}\n')]),
    );
    const json = join(dir, "jobs.json");
    writeFileSync(
      json,
      Buffer.concat([
        Buffer.from('[\n{"prompt": "ok"},\n{"prompt": "'),
        Buffer.from([0xff]),
        Buffer.from('"}\n]\n'),
      ]),
    );
    const before = emulator.counters.submits;
    const env = envFor(configDir, emulator.url);
    for (const [file, line] of [
      [gbk, 2],
      [jsonl, 1],
      [json, 3],
    ] as const) {
      const run = await spawnCli(["batch", file, "-o", join(dir, "out")], { env, cwd: dir });
      expect(run.code).toBe(2);
      expect(run.err).toContain(`${file}:${line}`);
      expect(run.err).toContain("not valid UTF-8");
    }
    expect(emulator.counters.submits).toBe(before);

    const bom = join(dir, "bom.txt");
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("一只猫\n")]));
    const dry = await spawnCli(["--json", "batch", bom, "--dry-run", "-o", join(dir, "out")], {
      env,
      cwd: dir,
    });
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.out) as { jobs: unknown[] }).jobs).toHaveLength(1);
  });
});

describe("4. unbounded API answers", () => {
  it("stop reading a poll answer that never ends at the cap, with an error naming it", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    let sent = 0;
    const rules: Parameters<typeof startHostileProxy>[1] = {
      answer(req, res) {
        if (req.method !== "GET" || !req.path.includes("/tasks/")) return false;
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"history_id":"1","status":20,"padding":"');
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let closed = false;
        res.once("close", () => {
          closed = true;
        });
        const pump = () => {
          while (!closed && sent < 1024 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return true;
      },
    };
    await withProxy(rules, async (proxy) => {
      const started = Date.now();
      const run = await spawnCli(
        ["--provider", "session", "generate", "an endless answer", "-n", "1", "-o", dir],
        {
          env: envFor(configDir, proxy.url),
          cwd: dir,
        },
      );
      expect(run.code).toBe(1);
      expect(run.err).toContain("larger than 8 MB, the limit for an API answer");
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
    });
  });
});

describe("9. signals", () => {
  it("SIGTERM during a wait exits 143", { timeout: 30_000 }, async () => {
    const { dir, configDir } = caseDir();
    await withProxy(sessionIdsAre("4242"), async (proxy) => {
      const child = spawn(
        process.execPath,
        [BIN, "--provider", "session", "generate", "a long wait", "-n", "1"],
        {
          env: envFor(configDir, proxy.url),
          cwd: dir,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let err = "";
      let signalled = false;
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        err += chunk;
        if (!signalled && err.includes("submitted task")) signalled = child.kill("SIGTERM");
      });
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(code).toBe(143);
      expect(err).toContain("jimeng result 4242 --wait --download");
    });
  });
});

describe("6. what a download saves", () => {
  /** A Visual API whose task is done with `urls` (served by the same hostile server from `files`). */
  function visualOutputs(
    urls: (base: string) => string[],
    files: Record<string, () => Buffer | string>,
    type = "image/png",
  ) {
    let base = "";
    const served: string[] = [];
    const rules: Parameters<typeof startHostileProxy>[1] = {
      answer(req, res) {
        const file = files[req.path];
        if (file) {
          served.push(req.path);
          const body = file();
          res.writeHead(200, { "content-type": type, "content-length": String(Buffer.byteLength(body)) });
          res.end(body);
          return true;
        }
        if (!req.path.includes("CVSync2AsyncGetResult")) return false;
        return sendJson(res, {
          code: 10000,
          message: "Success",
          request_id: "20261201000000BBBBBBBBBBBBBBBBBBBB",
          data: { status: "done", image_urls: urls(base), binary_data_base64: null },
        });
      },
    };
    return { rules, served, setBase: (url: string) => (base = url) };
  }

  it("refuses HTML served as image/png and a PNG without IEND: typed errors, retried, nothing saved", {
    timeout: 60_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const png = proceduralPng("cut");
    for (const [body, expected] of [
      ["<html><body>expired</body></html>", "was sent as image/png, but its bytes are not a PNG image"],
      [png.subarray(0, png.length - 12), "is an incomplete PNG (no IEND chunk)"],
    ] as const) {
      const hostile = visualOutputs((base) => [`${base}/out/0.png`], { "/out/0.png": () => body });
      await withProxy(hostile.rules, async (proxy) => {
        hostile.setBase(proxy.url);
        const out = join(dir, `out-${hostile.served.length}-${expected.length}`);
        const run = await spawnCli(["generate", "a bad download", "-o", out], {
          env: envFor(configDir, proxy.url),
          cwd: dir,
        });
        expect(run.code).toBe(1);
        expect(run.err).toContain(expected);
        expect(hostile.served.length).toBe(4);
        expect(existsSync(out) ? readdirSync(out).filter((f) => !f.startsWith(".")) : []).toEqual([]);
      });
    }
  });

  it("saves at most what the task can have made out of hundreds of URLs, and says it ignored the rest", {
    timeout: 60_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const files: Record<string, () => Buffer> = {};
    for (let i = 0; i < 300; i++) files[`/many/${i}.png`] = () => proceduralPng(`many-${i % 3}`);
    const hostile = visualOutputs((base) => Object.keys(files).map((path) => `${base}${path}`), files);
    await withProxy(hostile.rules, async (proxy) => {
      hostile.setBase(proxy.url);
      const out = join(dir, "out");
      const run = await spawnCli(["--json", "generate", "too many", "-n", "2", "-o", out], {
        env: envFor(configDir, proxy.url),
        cwd: dir,
      });
      expect(run.code).toBe(0);
      expect((JSON.parse(run.out) as { outputs: unknown[] }).outputs).toHaveLength(2);
      expect(hostile.served).toHaveLength(2);
      expect(run.err).toContain("the task answered 300 outputs; kept 2");
    });
  });
});

describe("5. downloads inside the deadline", () => {
  it("--timeout bounds a download that trickles one byte a second: exit 4 with the resume command", {
    timeout: 30_000,
  }, async () => {
    const { dir, configDir } = caseDir();
    const png = proceduralPng("slow");
    const timers = new Set<NodeJS.Timeout>();
    const rules: Parameters<typeof startHostileProxy>[1] = {
      answer(req, res) {
        if (req.path === "/slow.png") {
          res.writeHead(200, { "content-type": "image/png", "content-length": String(png.length) });
          let sent = 0;
          const timer = setInterval(() => {
            if (res.destroyed || sent >= png.length) {
              clearInterval(timer);
              return;
            }
            res.write(png.subarray(sent, ++sent));
          }, 1000);
          timers.add(timer);
          return true;
        }
        if (!req.path.includes("CVSync2AsyncGetResult")) return false;
        return sendJson(res, {
          code: 10000,
          message: "Success",
          request_id: "20261201000000CCCCCCCCCCCCCCCCCCCC",
          data: { status: "done", image_urls: [`${base}/slow.png`], binary_data_base64: null },
        });
      },
    };
    let base = "";
    try {
      await withProxy(rules, async (proxy) => {
        base = proxy.url;
        const started = Date.now();
        const run = await spawnCli(["generate", "a slow download", "--timeout", "3s", "-o", dir], {
          env: envFor(configDir, proxy.url),
          cwd: dir,
        });
        expect(run.code).toBe(4);
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(run.err).toContain("did not finish within the timeout");
        expect(run.err).toMatch(/jimeng result \d+ --wait --download/);

        // The printed follow-up, with a timeout of its own, is bounded the same way.
        const taskId = /jimeng result (\d+) --wait --download/.exec(run.err)?.[1] ?? "";
        const again = await spawnCli(
          ["result", taskId, "--wait", "--download", "--timeout", "2s", "-o", dir],
          {
            env: envFor(configDir, proxy.url),
            cwd: dir,
          },
        );
        expect(again.code).toBe(4);
        expect(again.err).toContain("did not finish within the timeout");
      });
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });
});
