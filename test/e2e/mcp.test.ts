/**
 * `jimeng mcp --emulator`, the built bin as a child process, driven over stdio by the official MCP client:
 * tool listing against the capability records, generate and video to completion with progress, cancellation,
 * the submit + result pair, the cancel tool, a batch, bad arguments refused with zero upstream requests, every
 * returned file inside the output folder with the emulator's sha256, and no credential in anything it says.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_CREDENTIALS } from "../../src/emulator/server.js";
import { GENERIC_OPTIONS, type TaskKind } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/models.js";

const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface Counters {
  requests: number;
  submits: number;
  polls: number;
  pollsByTask: Record<string, number>;
}
interface EmulatorTask {
  id: string;
  outputs: { sha256: string; bytes: number }[];
}
type Content = { type: string; text?: string; uri?: string; mimeType?: string; size?: number; data?: string };
interface ToolResult {
  content: Content[];
  isError?: boolean;
}

let root: string;
let out: string;
let inputs: string;
let client: Client;
let transport: StdioClientTransport;
let emulatorUrl: string;
let stderr = "";
const said: string[] = [];
const transportErrors: Error[] = [];

async function emulator<T>(what: "counters" | "tasks"): Promise<T> {
  const response = await fetch(`${emulatorUrl}/__emulator/${what}`);
  return (await response.json()) as T;
}

async function call(
  name: string,
  args: Record<string, unknown>,
  options: {
    onprogress?: (progress: { progress: number; message?: string }) => void;
    signal?: AbortSignal;
  } = {},
): Promise<ToolResult> {
  const result = (await client.callTool({ name, arguments: args }, options)) as ToolResult;
  said.push(JSON.stringify(result));
  return result;
}

function textOf(result: ToolResult): string {
  return result.content
    .filter((item) => item.type === "text")
    .map((item) => item.text)
    .join("\n");
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Every file a result links to: inside the output folder, its bytes the emulator's. */
async function expectFilesFromEmulator(result: ToolResult, taskId: string): Promise<string[]> {
  const links = result.content.filter((item) => item.type === "resource_link");
  expect(links.length).toBeGreaterThan(0);
  const { tasks } = await emulator<{ tasks: EmulatorTask[] }>("tasks");
  const task = tasks.find((candidate) => candidate.id === taskId);
  expect(task).toBeDefined();
  const files = links.map((link) => fileURLToPath(link.uri as string));
  for (const [index, file] of files.entries()) {
    expect(file.startsWith(`${out}/`)).toBe(true);
    expect(sha256(file)).toBe(task?.outputs[index]?.sha256);
    expect(links[index]?.size).toBe(readFileSync(file).length);
  }
  return files;
}

/** Resolves once `pattern` appears on the server's stderr. */
function stderrShows(pattern: RegExp): Promise<void> {
  return vi.waitFor(() => expect(stderr).toMatch(pattern), { timeout: 10_000, interval: 20 });
}

beforeAll(async () => {
  if (!existsSync(BUILT)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  root = mkdtempSync(join(tmpdir(), "jimeng-e2e-mcp-"));
  out = join(root, "out");
  inputs = join(root, "inputs");
  mkdirSync(inputs);
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", "--emulator", "-o", out, "--allow-dir", inputs],
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: root,
      NO_COLOR: "1",
      JIMENG_CONFIG_DIR: join(root, "config"),
      JIMENG_POLL_INTERVAL: "20ms",
    },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  client = new Client({ name: "jimeng-test", version: "1.0.0" });
  client.onerror = (error) => transportErrors.push(error);
  await client.connect(transport);
  await stderrShows(/emulator at (http:\/\/\S+)\)/);
  emulatorUrl = /emulator at (http:\/\/\S+)\)/.exec(stderr)?.[1] as string;
});

afterAll(async () => {
  await client?.close();
  if (root) rmSync(root, { recursive: true, force: true });
  // stdout carried only protocol messages: the client never met a line it could not parse.
  expect(transportErrors).toEqual([]);
  // No credential in any tool result or log line.
  const everything = [...said, stderr].join("\n");
  expect(everything).not.toContain(DEMO_CREDENTIALS.secretAccessKey);
  expect(everything).not.toContain(DEMO_CREDENTIALS.sessionId);
});

describe("jimeng mcp --emulator over stdio (official MCP client)", () => {
  it("lists the tools with input schemas taken from the capability records", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ["batch", "cancel", "compose", "generate", "models", "result", "submit", "video"].sort(),
    );
    for (const kind of ["generate", "compose", "video"] as TaskKind[]) {
      const tool = tools.find((candidate) => candidate.name === kind);
      const models = VISUAL_MODELS.filter((model) => model.kinds.includes(kind));
      const properties = tool?.inputSchema.properties as Record<string, { enum?: string[] }>;
      const accepted = GENERIC_OPTIONS.filter((option) =>
        models.some((model) => model.options.includes(option)),
      );
      const expected = ["prompt", "model", ...accepted, "images", "name", "timeoutSeconds"];
      expect(Object.keys(properties).sort()).toEqual(expected.sort());
      expect(properties.model?.enum?.sort()).toEqual(
        [...new Set(models.flatMap((model) => [model.id, ...model.aliases]))].sort(),
      );
      const ratios = new Set(
        models.filter((model) => model.options.includes("ratio")).flatMap((model) => model.ratios ?? []),
      );
      expect(new Set(properties.ratio?.enum)).toEqual(ratios);
      expect(tool?.description).toMatch(/COSTS MONEY/);
    }
    const generate = tools.find((tool) => tool.name === "generate");
    expect(generate?.inputSchema.required).toEqual(["prompt"]);
    expect(tools.find((tool) => tool.name === "compose")?.inputSchema.required).toContain("images");
  });

  it("generate runs to completion with progress, returning links, inline images and the task", async () => {
    const progress: string[] = [];
    const result = await call(
      "generate",
      { prompt: "an orange cat under cherry blossoms", count: 2 },
      { onprogress: (event) => progress.push(event.message ?? "") },
    );
    expect(result.isError).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string; provider: string; model: string };
    expect(summary).toMatchObject({ provider: "visual", model: "jimeng_t2i_v40", status: "succeeded" });
    expect(progress.some((message) => /submitted task/.test(message))).toBe(true);
    expect(progress.some((message) => /(queued|running) after/.test(message))).toBe(true);
    const files = await expectFilesFromEmulator(result, summary.taskId);
    expect(files).toHaveLength(2);
    const images = result.content.filter((item) => item.type === "image");
    expect(images).toHaveLength(2);
    expect(Buffer.from(images[0]?.data as string, "base64").equals(readFileSync(files[0] as string))).toBe(
      true,
    );
  });

  it("video runs to completion with progress", async () => {
    const progress: number[] = [];
    const result = await call(
      "video",
      { prompt: "waves rolling onto a beach", duration: 5 },
      { onprogress: (event) => progress.push(event.progress) },
    );
    expect(result.isError).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string };
    const files = await expectFilesFromEmulator(result, summary.taskId);
    expect(files[0]).toMatch(/\.mp4$/);
    expect(result.content.find((item) => item.type === "resource_link")?.mimeType).toBe("video/mp4");
    expect(result.content.some((item) => item.type === "image")).toBe(false);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("a client cancellation stops the wait; the server goes on serving", async () => {
    const controller = new AbortController();
    const running = call(
      "video",
      { prompt: "a paper boat drifting, cancelled" },
      {
        signal: controller.signal,
        onprogress: (event) => {
          if (/(queued|running) after/.test(event.message ?? "")) controller.abort();
        },
      },
    );
    await expect(running).rejects.toThrow();
    await stderrShows(/stopped waiting for task \S+; it keeps running upstream/);
    const models = await call("models", { kind: "video" });
    expect(models.isError).toBeFalsy();
  });

  it("submit returns a task id at once; result waits for it; cancel says the provider cannot", async () => {
    const submitted = await call("submit", { kind: "generate", prompt: "a red fox in snow" });
    const { taskId } = JSON.parse(textOf(submitted)) as { taskId: string };
    expect(taskId).toMatch(/^\d+$/);
    const result = await call("result", { taskId, wait: true });
    expect(result.isError).toBeFalsy();
    await expectFilesFromEmulator(result, taskId);

    const video = JSON.parse(textOf(await call("submit", { kind: "video", prompt: "a kite" }))) as {
      taskId: string;
    };
    let polling!: () => void;
    const polled = new Promise<void>((resolve) => {
      polling = resolve;
    });
    const waiting = call("result", { taskId: video.taskId, wait: true }, { onprogress: () => polling() });
    await polled;
    const cancelled = await call("cancel", { taskId: video.taskId });
    expect(cancelled.isError).toBe(true);
    expect(JSON.parse(textOf(cancelled))).toMatchObject({ cancelledUpstream: false, stoppedWaits: 1 });
    expect(textOf(cancelled)).toMatch(/cannot cancel/);
    const stopped = await waiting;
    expect(stopped.isError).toBe(true);
    expect(textOf(stopped)).toContain(video.taskId);
  });

  it("bad arguments are tool errors naming the field, with zero upstream requests", async () => {
    writeFileSync(join(root, "outside.png"), "not allowed");
    const before = await emulator<Counters>("counters");
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["generate", { prompt: "a cat", ratio: "banana" }, /ratio/],
      ["generate", { prompt: "a cat", model: "jimeng_t2i_v30", count: 2 }, /count/],
      ["generate", { prompt: "a cat", duration: 5 }, /duration/],
      ["generate", { prompt: "   " }, /prompt/],
      ["compose", { prompt: "autumn", images: [join(root, "outside.png")] }, /images\.0/],
      ["video", { prompt: "waves", duration: 5, model: "no-such-model" }, /model/],
      ["batch", { jobs: [{ prompt: "fine" }, { prompt: "bad", ratio: "x" }] }, /jobs\.1\.ratio/],
    ];
    for (const [name, args, field] of cases) {
      const result = await call(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(field);
    }
    const after = await emulator<Counters>("counters");
    expect(after.submits).toBe(before.submits);
    // The only request since is the counters read itself.
    expect(after.requests).toBe(before.requests + 1);
  });

  it("batch starts a run in its own folder and reports it when it ends", async () => {
    const started = await call("batch", {
      jobs: [
        { id: "fox", prompt: "a red fox" },
        { id: "owl", prompt: "an owl at night", count: 2 },
      ],
    });
    expect(started.isError).toBeFalsy();
    const run = JSON.parse(textOf(started)) as { runId: string; out: string; jobs: number };
    expect(run.jobs).toBe(2);
    expect(run.out.startsWith(join(out, "batches"))).toBe(true);
    const report = await vi.waitFor(
      async () => {
        const status = JSON.parse(textOf(await call("batch", { runId: run.runId }))) as {
          state: string;
          succeeded: number;
        };
        expect(status.state).toBe("finished");
        return status;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(report.succeeded).toBe(2);
    expect(existsSync(join(run.out, "report.json"))).toBe(true);
  });
});
