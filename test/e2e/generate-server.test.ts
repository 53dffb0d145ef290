/**
 * `jimeng generate --server <url>`: the built CLI uses a shared `jimeng serve` (here in-process, on the
 * emulator, listening on loopback) instead of the provider. `npm run build` first.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, startTestService, type TestService } from "../server/helpers.js";
import { runCli, tempDir } from "./batch-cli.js";

let service: TestService;
let url: string;
let user: { id: string; key: string };
let temp: Awaited<ReturnType<typeof tempDir>>;

/** No provider credentials at all: only the service's address (and, where given, its key). */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(JIMENG_|VOLC_|CI$|NO_COLOR$|FORCE_COLOR$)/.test(key)) clean[key] = value;
  }
  return {
    ...clean,
    JIMENG_CONFIG_DIR: path.join(temp.dir, "config"),
    JIMENG_POLL_INTERVAL: "20ms",
    NO_COLOR: "1",
    ...extra,
  };
}

async function jimeng(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(args, { env: env(extra), cwd: temp.dir }).exited;
}

beforeAll(async () => {
  temp = await tempDir("jimeng-generate-server-");
  service = await startTestService();
  url = await service.server.listen({ port: 0 });
  user = await newUser(service, "ana");
});

afterAll(async () => {
  await service.close();
  await temp.cleanup();
});

describe("generate --server", () => {
  it("creates the task on the service and saves its copy of each output; the key is never printed", async () => {
    const out = path.join(temp.dir, "out");
    const run = await jimeng([
      "generate",
      "a red fox in the snow",
      "--server",
      url,
      "--api-key",
      user.key,
      "-o",
      out,
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({ provider: "visual", status: "succeeded" });
    expect(document.taskId).toMatch(/^jimeng_img_/);
    expect(document.outputs.length).toBeGreaterThan(0);
    const stored = service.server.store.getTask(document.taskId);
    expect(stored?.userId).toBe("ana");
    for (const [index, output] of document.outputs.entries()) {
      expect(output.url).toBe(`${url}/api/v1/files/${document.taskId}/${index + 1}.png`);
      const bytes = await readFile(output.file);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(stored?.outputs[index]?.sha256);
    }
    expect(run.stdout + run.stderr).not.toContain(user.key);
  });

  it("refuses a wrong key with the auth exit code and what to do, before any task is created", async () => {
    const before = service.server.store.countByStatus();
    const run = await jimeng(["generate", "a fox", "--server", url, "--api-key", "jms_not-a-key"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("401");
    expect(run.stderr).toContain("JIMENG_SERVER_API_KEY");
    expect(run.stderr).not.toContain("jms_not-a-key");
    expect(service.server.store.countByStatus()).toEqual(before);
  });

  it("checks the request against the service's models before sending (exit 2, nothing created)", async () => {
    const before = service.server.store.countByStatus();
    const run = await jimeng(["generate", "a fox", "--duration", "5", "--server", url], {
      JIMENG_SERVER_API_KEY: user.key,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--duration");
    expect(service.server.store.countByStatus()).toEqual(before);
  });

  it("submit, then result --wait --download through JIMENG_SERVER_URL; follow-ups name --server, never the key", async () => {
    const submitted = await jimeng(["submit", "generate", "a lighthouse", "--server", url], {
      JIMENG_SERVER_API_KEY: user.key,
    });
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^jimeng_img_/);
    expect(submitted.stderr).toContain(`jimeng result ${id} --wait --download --server ${url}`);
    expect(submitted.stderr).not.toContain(user.key);

    const out = path.join(temp.dir, "later");
    const result = await jimeng(["result", id, "--wait", "--download", "-o", out], {
      JIMENG_SERVER_URL: url,
      JIMENG_SERVER_API_KEY: user.key,
    });
    expect(result.code, result.stderr).toBe(0);
    const files = result.stdout.trim().split("\n");
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect((await readFile(file)).subarray(1, 4).toString()).toBe("PNG");
  });

  it("a key typed with --api-key is not in the printed follow-up, which says to set JIMENG_SERVER_API_KEY", async () => {
    const submitted = await jimeng([
      "submit",
      "generate",
      "a harbour",
      "--server",
      url,
      "--api-key",
      user.key,
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(submitted.stderr).toContain(
      `jimeng result ${id} --wait --download --server ${url} with JIMENG_SERVER_API_KEY set`,
    );
    expect(submitted.stderr).not.toContain(user.key);

    // The task list says where the task lives; `result` without the service asks for it, polling nothing.
    const listed = await jimeng(["tasks", "--limit", "1"]);
    expect(listed.stdout).toContain(`${id}`);
    expect(listed.stdout).toContain(`via ${url}`);
    const elsewhere = await jimeng(["result", id], { JIMENG_SERVER_API_KEY: user.key });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`add --server ${url}`);
  });

  it("is refused by a command that talks to the provider itself, rather than ignored", async () => {
    const run = await jimeng(["batch", "jobs.txt", "--dry-run", "--server", url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "--server: a shared service is used by generate, compose, video, submit, result",
    );
  });
});
