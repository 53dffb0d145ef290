import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { VERSION } from "../../src/version.js";

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c) => (out += c));
  stderr.on("data", (c) => (err += c));
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

describe("main()", () => {
  it("prints the package version and returns 0", async () => {
    const t = io();
    expect(await main(["--version"], t.io)).toBe(0);
    expect(t.out().trim()).toBe(VERSION);
  });

  it("prints help and returns 0", async () => {
    const t = io();
    expect(await main(["--help"], t.io)).toBe(0);
    expect(t.out()).toContain("Usage: jimeng");
  });

  it("maps a usage error to exit code 2", async () => {
    const t = io();
    expect(await main(["--no-such-flag"], t.io)).toBe(2);
    expect(t.err()).toContain("unknown option");
  });
});
