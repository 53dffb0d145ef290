import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules/.bin/tsx");
const run = promisify(execFile);

const credentials = {
  accessKeyId: "AKLTexampletest0001",
  secretAccessKey: "examples-secret-key-never-printed",
  sessionId: "examples-session-id-never-printed",
};

/** Runs an example with the environment a user would set, pointed at this test's emulator. */
async function example(name: string, provider: "visual" | "session", args: string[] = []) {
  const out = mkdtempSync(join(dir, `${name}-`));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    OUT_DIR: out,
    JIMENG_POLL_INTERVAL: "50ms",
    ...(provider === "visual"
      ? {
          VOLC_ACCESSKEY: credentials.accessKeyId,
          VOLC_SECRETKEY: credentials.secretAccessKey,
          JIMENG_VISUAL_ENDPOINT: emulator.url,
        }
      : { JIMENG_SESSION_ID: credentials.sessionId, JIMENG_SESSION_ENDPOINT: emulator.url }),
  };
  const { stdout, stderr } = await run(TSX, [join(ROOT, "examples", name), ...args], { cwd: ROOT, env });
  expect(`${stdout}${stderr}`).not.toContain(credentials.secretAccessKey);
  expect(`${stdout}${stderr}`).not.toContain(credentials.sessionId);
  return { stdout, stderr, out };
}

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "jimeng-examples-"));
  emulator = await startEmulator({ credentials, durations: { image: 20, video: 40 } });
});
afterAll(async () => {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("examples/ run against the emulator", () => {
  it("generate.ts saves an image (visual)", async () => {
    const { stdout, out } = await example("generate.ts", "visual");
    expect(stdout).toContain(out);
    expect(stdout).toMatch(/\.png {2}\d+ bytes {2}sha256 [0-9a-f]{64}/);
  });

  it("compose.ts uploads a local file and saves the result (session)", async () => {
    const { stdout } = await example("compose.ts", "session");
    expect(stdout).toMatch(/\.png$/m);
  });

  it("compose.ts sends a local file as base64 (visual)", async () => {
    const { stdout } = await example("compose.ts", "visual");
    expect(stdout).toMatch(/\.(png|jpg)$/m);
  });

  it("video.ts saves an mp4", async () => {
    const { stdout } = await example("video.ts", "visual");
    expect(stdout).toMatch(/\.mp4 \(video\/mp4\)/);
  });

  it("submit-and-poll.ts submits, waits and prints the output URLs (session)", async () => {
    const { stdout, stderr } = await example("submit-and-poll.ts", "session");
    expect(stderr).toContain("submitted");
    expect(stdout).toContain(emulator.url);
  });

  it.each(["jobs.jsonl", "jobs.json", "prompts.txt"])("batch.ts runs %s to a report", async (file) => {
    const { stdout, out } = await example("batch.ts", "visual", [join(ROOT, "examples", file)]);
    expect(stdout).toMatch(/^3\/3 succeeded; report: /m);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as {
      total: number;
      failed: number;
    };
    expect(report).toMatchObject({ total: 3, failed: 0 });
  });

  it("github-actions.yml generates from a batch file with repository secrets, resumes, and uploads the report", () => {
    const workflow = readFileSync(join(ROOT, "examples/github-actions.yml"), "utf8");
    expect(workflow).toContain("secrets.VOLC_ACCESSKEY");
    expect(workflow).toContain("secrets.VOLC_SECRETKEY");
    expect(workflow).toMatch(/jimeng batch \S+ .*--resume/);
    expect(workflow).toContain("actions/cache");
    expect(workflow).toContain("report.json");
    expect(workflow).toContain("actions/upload-artifact");
  });

  it("github-actions.yml's Generate step runs on a fresh checkout (no output folder yet)", async () => {
    const workflow = readFileSync(join(ROOT, "examples/github-actions.yml"), "utf8");
    const script = generateStep(workflow).replaceAll(
      "npx --yes jimeng",
      `node ${join(ROOT, "bin/jimeng.js")}`,
    );
    const checkout = mkdtempSync(join(dir, "checkout-"));
    mkdirSync(join(checkout, "assets"));
    copyFileSync(join(ROOT, "examples/jobs.jsonl"), join(checkout, "assets/jobs.jsonl"));
    await run("sh", ["-e", "-c", script], {
      cwd: checkout,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        JIMENG_POLL_INTERVAL: "20ms",
        VOLC_ACCESSKEY: credentials.accessKeyId,
        VOLC_SECRETKEY: credentials.secretAccessKey,
        JIMENG_VISUAL_ENDPOINT: emulator.url,
      },
    });
    const report = JSON.parse(readFileSync(join(checkout, "assets/out/report-stdout.json"), "utf8"));
    expect(report).toMatchObject({ total: 3, failed: 0 });
  });
});

/** The shell script of the workflow's "Generate" step (`run: <line>` or a `run: |` block). */
function generateStep(workflow: string): string {
  const lines = workflow.split("\n");
  const step = lines.findIndex((line) => line.trim() === "- name: Generate");
  const at = lines.findIndex((line, index) => index > step && /^\s+run:/.test(line));
  const first = lines[at] as string;
  const inline = first.replace(/^\s+run:\s*/, "");
  if (inline !== "|") return inline;
  const indent = (lines[at + 1]?.match(/^\s*/)?.[0] ?? "").length;
  const body: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() !== "" && (line.match(/^\s*/)?.[0] ?? "").length < indent) break;
    body.push(line.slice(indent));
  }
  return body.join("\n");
}
