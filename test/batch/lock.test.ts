import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchLockedError, lockOutput, lockPath } from "../../src/batch/lock.js";
import { job, setUp } from "./runner-helpers.js";

let out: string;
beforeEach(async () => {
  out = await mkdtemp(path.join(tmpdir(), "jimeng-lock-"));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

/** A pid that surely does not run any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

async function plantLock(owner: object | string): Promise<void> {
  await mkdir(path.dirname(lockPath(out)), { recursive: true });
  await writeFile(lockPath(out), typeof owner === "string" ? owner : JSON.stringify(owner));
}

describe("lockOutput", () => {
  it("lets one holder in and names it to the next; released, the folder is free again", async () => {
    const lock = await lockOutput(out);
    const refused = await lockOutput(out).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BatchLockedError);
    expect((refused as BatchLockedError).owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect((refused as BatchLockedError).message).toContain(`process ${process.pid} on ${hostname()}`);

    await lock.release();
    const again = await lockOutput(out);
    await again.release();
  });

  it("takes over a lock whose process is gone on this host", async () => {
    await plantLock({ pid: deadPid(), host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" });
    const lock = await lockOutput(out);
    expect(JSON.parse(await readFile(lockPath(out), "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("never takes over a lock held on another host, nor a brand-new torn one", async () => {
    await plantLock({ pid: deadPid(), host: `not-${hostname()}`, startedAt: "2026-01-01T00:00:00.000Z" });
    await expect(lockOutput(out)).rejects.toThrow(`on not-${hostname()}`);
    await plantLock("");
    await expect(lockOutput(out)).rejects.toBeInstanceOf(BatchLockedError);
  });
});

describe("runBatch on a locked folder", () => {
  it("throws BatchLockedError before reading the journal or sending anything", async () => {
    const bench = await setUp();
    try {
      const lock = await lockOutput(bench.out);
      await expect(bench.run([job({ id: "a", prompt: "not sent" })])).rejects.toBeInstanceOf(
        BatchLockedError,
      );
      expect(bench.emulator.counters.requests).toBe(0);
      await lock.release();
      const result = await bench.run([job({ id: "a", prompt: "sent once free" })]);
      expect(result.report.succeeded).toBe(1);
    } finally {
      await bench.cleanup();
    }
  });
});
