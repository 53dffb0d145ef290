/** `-n` on a model that decides its own count is not silently ignored: a warning says what will happen. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeTerminal } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "jimeng-count-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function submit(args: string[]) {
  const t = fakeTerminal({ env: { JIMENG_CONFIG_DIR: join(root, "config") } });
  const code = await main(["--emulator", "submit", "generate", "four dogs", ...args], t.io);
  return { code, err: t.err() };
}

describe("-n on a model that decides how many images it makes", () => {
  it("warns that the model decides (Jimeng 4.0 on the Visual API, the default)", async () => {
    const run = await submit(["-n", "4"]);
    expect(run.code).toBe(0);
    expect(run.err).toContain("warning: -n 4: jimeng_t2i_v40 decides how many images it makes");
  });

  it.for([
    ["-n 1 (forces one image)", ["-n", "1"]],
    ["no -n", []],
    ["a session model (outputs are trimmed to -n)", ["--provider", "session", "-n", "4"]],
  ] as const)("does not warn for %s", async ([, args]) => {
    const run = await submit([...args]);
    expect(run.code).toBe(0);
    expect(run.err).not.toContain("warning:");
  });
});
