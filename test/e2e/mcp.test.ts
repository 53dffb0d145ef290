/**
 * `jimeng mcp --emulator`, the built bin as a child process, driven over stdio by the official MCP client:
 * tool listing against the capability records, generate and video to completion with progress, cancellation,
 * the submit + result pair, the cancel tool, a batch, bad arguments refused with zero upstream requests, every
 * returned file inside the output folder with the emulator's sha256, and no credential in anything it says.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { GENERIC_OPTIONS, type TaskKind } from "../../src/providers/types.js";
import { VISUAL_MODELS } from "../../src/providers/visual/catalog.js";
import { type Counters, McpHarness, textOf } from "./mcp-harness.js";

let mcp: McpHarness;

interface BatchStatus {
  state: string;
  succeeded: number;
  jobs: { id: string; taskId: string; files: { file: string }[] }[];
}

beforeAll(async () => {
  mcp = await McpHarness.start();
});

afterAll(async () => {
  await mcp?.close();
});

describe("jimeng mcp --emulator over stdio (official MCP client)", () => {
  it("lists the tools with input schemas taken from the capability records", async () => {
    const { tools } = await mcp.client.listTools();
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
    const result = await mcp.call(
      "generate",
      { prompt: "an orange cat under cherry blossoms", count: 2 },
      { onprogress: (event) => progress.push(event.message ?? "") },
    );
    expect(result.isError).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string; provider: string; model: string };
    expect(summary).toMatchObject({ provider: "visual", model: "jimeng_t2i_v40", status: "succeeded" });
    expect(progress.some((message) => /submitted task/.test(message))).toBe(true);
    expect(progress.some((message) => /(queued|running) after/.test(message))).toBe(true);
    const files = await mcp.expectFilesFromEmulator(result, summary.taskId);
    expect(files).toHaveLength(2);
    const images = result.content.filter((item) => item.type === "image");
    expect(images).toHaveLength(2);
    expect(Buffer.from(images[0]?.data as string, "base64").equals(readFileSync(files[0] as string))).toBe(
      true,
    );
  });

  it("compose reads a reference image from an allowed folder", async () => {
    const photo = join(mcp.inputs, "photo.png");
    writeFileSync(photo, proceduralPng("photo", 512, 512));
    const result = await mcp.call("compose", {
      prompt: "make it autumn",
      images: [photo],
      model: "jimeng_i2i_v30",
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string; kind: string };
    expect(summary.kind).toBe("compose");
    await mcp.expectFilesFromEmulator(result, summary.taskId);
  });

  it("video runs to completion with progress", async () => {
    const progress: number[] = [];
    const result = await mcp.call(
      "video",
      { prompt: "waves rolling onto a beach", duration: 5 },
      { onprogress: (event) => progress.push(event.progress) },
    );
    expect(result.isError).toBeFalsy();
    const summary = JSON.parse(textOf(result)) as { taskId: string };
    const files = await mcp.expectFilesFromEmulator(result, summary.taskId);
    expect(files[0]).toMatch(/\.mp4$/);
    expect(result.content.find((item) => item.type === "resource_link")?.mimeType).toBe("video/mp4");
    expect(result.content.some((item) => item.type === "image")).toBe(false);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("a client cancellation stops the wait; the server goes on serving", async () => {
    const controller = new AbortController();
    const running = mcp.call(
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
    await mcp.stderrShows(/stopped waiting for task \S+; it keeps running upstream/);
    const models = await mcp.call("models", { kind: "video" });
    expect(models.isError).toBeFalsy();
  });

  it("submit returns a task id at once; result waits for it; cancel says the provider cannot", async () => {
    const submitted = await mcp.call("submit", { kind: "generate", prompt: "a red fox in snow" });
    const { taskId } = JSON.parse(textOf(submitted)) as { taskId: string };
    expect(taskId).toMatch(/^\d+$/);
    const result = await mcp.call("result", { taskId, wait: true });
    expect(result.isError).toBeFalsy();
    await mcp.expectFilesFromEmulator(result, taskId);

    const video = JSON.parse(textOf(await mcp.call("submit", { kind: "video", prompt: "a kite" }))) as {
      taskId: string;
    };
    let polling!: () => void;
    const polled = new Promise<void>((resolve) => {
      polling = resolve;
    });
    const waiting = mcp.call("result", { taskId: video.taskId, wait: true }, { onprogress: () => polling() });
    await polled;
    const cancelled = await mcp.call("cancel", { taskId: video.taskId });
    expect(cancelled.isError).toBe(true);
    expect(JSON.parse(textOf(cancelled))).toMatchObject({ cancelledUpstream: false, stoppedWaits: 1 });
    expect(textOf(cancelled)).toMatch(/cannot cancel/);
    const stopped = await waiting;
    expect(stopped.isError).toBe(true);
    expect(textOf(stopped)).toContain(video.taskId);
  });

  it("bad arguments are tool errors naming the field, with zero upstream requests", async () => {
    writeFileSync(join(mcp.root, "outside.png"), "not allowed");
    writeFileSync(join(mcp.root, "outside.jsonl"), `{"prompt": "not allowed"}\n`);
    // The task list (shared with the CLI) knows a task of the other provider.
    mkdirSync(join(mcp.root, "config"), { recursive: true });
    appendFileSync(
      join(mcp.root, "config", "tasks.jsonl"),
      `${JSON.stringify({ taskId: "h-42", provider: "session", model: "jimeng-4.5", kind: "generate", submittedAt: "2026-01-01T00:00:00.000Z" })}\n`,
    );
    const before = await mcp.emulator<Counters>("counters");
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["generate", { prompt: "a cat", ratio: "banana" }, /ratio/],
      ["generate", { prompt: "a cat", model: "jimeng_t2i_v30", count: 2 }, /count/],
      ["generate", { prompt: "a cat", duration: 5 }, /duration/],
      ["generate", { prompt: "   " }, /prompt/],
      ["compose", { prompt: "autumn", images: [join(mcp.root, "outside.png")] }, /images\.0/],
      ["video", { prompt: "waves", duration: 5, model: "no-such-model" }, /model/],
      ["batch", { jobs: [{ prompt: "fine" }, { prompt: "bad", ratio: "x" }] }, /jobs\.1\.ratio/],
      ["batch", { file: join(mcp.root, "outside.jsonl") }, /file/],
      ["result", { taskId: "h-42" }, /taskId.*session provider/],
      ["result", { taskId: "1000000000000000001" }, /model/],
    ];
    for (const [name, args, field] of cases) {
      const result = await mcp.call(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(field);
    }
    const after = await mcp.emulator<Counters>("counters");
    expect(after.submits).toBe(before.submits);
    // The only request since is the counters read itself.
    expect(after.requests).toBe(before.requests + 1);
  });

  it("batch runs a file from an allowed folder and an inline list, each in its own folder", async () => {
    const file = join(mcp.inputs, "jobs.jsonl");
    writeFileSync(
      file,
      '{"id": "fox", "prompt": "a red fox"}\n{"id": "owl", "prompt": "an owl", "count": 2}\n',
    );
    const runs = await Promise.all([
      mcp.call("batch", { file }),
      mcp.call("batch", {
        jobs: [
          { id: "cat", prompt: "a cat" },
          { kind: "video", prompt: "rain" },
        ],
      }),
    ]);
    for (const started of runs) {
      expect(started.isError, textOf(started)).toBeFalsy();
      const run = JSON.parse(textOf(started)) as { runId: string; out: string; jobs: number };
      expect(run.jobs).toBe(2);
      expect(run.out.startsWith(join(mcp.out, "batches", run.runId))).toBe(true);
      const status = await vi.waitFor(
        async () => {
          const now = JSON.parse(textOf(await mcp.call("batch", { runId: run.runId }))) as BatchStatus;
          expect(now.state).toBe("finished");
          return now;
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(status.succeeded).toBe(2);
      expect(existsSync(join(run.out, "report.json"))).toBe(true);
      const { tasks } = await mcp.emulator<{ tasks: { id: string; outputs: { sha256: string }[] }[] }>(
        "tasks",
      );
      for (const job of status.jobs) {
        const outputs = tasks.find((task) => task.id === job.taskId)?.outputs ?? [];
        expect(job.files.length).toBeGreaterThan(0);
        for (const [index, saved] of job.files.entries()) {
          const path = resolve(run.out, saved.file);
          expect(path.startsWith(`${run.out}/`)).toBe(true);
          expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(outputs[index]?.sha256);
        }
      }
    }
  });
});
