import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { VERSION } from "../../src/version.js";
import { fakeTerminal } from "./helpers.js";

const BIN = fileURLToPath(new URL("../../bin/jimeng.js", import.meta.url));

describe("main()", () => {
  it("prints the package version and returns 0", async () => {
    const t = fakeTerminal();
    expect(await main(["--version"], t.io)).toBe(0);
    expect(t.out().trim()).toBe(VERSION);
  });

  it("prints help listing the global options and commands, and returns 0", async () => {
    const t = fakeTerminal();
    expect(await main(["--help"], t.io)).toBe(0);
    const help = t.out();
    expect(help).toContain("Usage: jimeng");
    for (const flag of ["--json", "--quiet", "--verbose", "--no-color", "--provider <name>", "--emulator"]) {
      expect(help).toContain(flag);
    }
    expect(help).toMatch(/config\s+read and change the config store/);
    expect(help).toMatch(/emulate \[options\]\s+run the offline emulator/);
    expect(help).toContain("Exit codes:");
  });

  it("prints help on stdout and returns 0 when run without arguments", async () => {
    const t = fakeTerminal();
    expect(await main([], t.io)).toBe(0);
    expect(t.out()).toContain("Usage: jimeng");
  });

  it("shows examples in every command's help", async () => {
    for (const command of [["config"], ["config", "set"], ["config", "list"], ["emulate"]]) {
      const t = fakeTerminal();
      expect(await main([...command, "--help"], t.io)).toBe(0);
      expect(t.out()).toContain("Examples:\n  $ jimeng");
    }
  });

  it("lists the global options in a command's help, under their own heading", async () => {
    const t = fakeTerminal();
    expect(await main(["result", "--help"], t.io)).toBe(0);
    const [own, global] = t.out().split("Global Options:");
    expect(own).toContain("--wait");
    expect(global).toContain("--emulator");
    expect(global).toContain("--json");
  });

  it("maps an unknown option to exit code 2", async () => {
    const t = fakeTerminal();
    expect(await main(["--no-such-flag"], t.io)).toBe(2);
    expect(t.err()).toContain("unknown option");
  });

  it("maps an unknown command to exit code 2 and suggests the closest", async () => {
    const t = fakeTerminal();
    expect(await main(["confg"], t.io)).toBe(2);
    expect(t.err()).toContain("Did you mean config?");
  });

  it("maps a missing subcommand or argument to exit code 2", async () => {
    const missingSubcommand = fakeTerminal();
    expect(await main(["config"], missingSubcommand.io)).toBe(2);
    expect(missingSubcommand.err()).toContain("Usage: jimeng config");

    const missingArgument = fakeTerminal();
    expect(await main(["config", "get"], missingArgument.io)).toBe(2);
    expect(missingArgument.err()).toContain("missing required argument 'key'");
  });

  it("rejects a --provider that is not visual or session with exit code 2", async () => {
    const t = fakeTerminal();
    expect(await main(["--provider", "openai", "config", "path"], t.io)).toBe(2);
    expect(t.err()).toContain("Allowed choices are visual, session");
  });

  it("with --json, a usage error is also one JSON document on stdout", async () => {
    const t = fakeTerminal();
    expect(await main(["--json", "--bogus"], t.io)).toBe(2);
    const document = JSON.parse(t.out());
    expect(document.error).toMatchObject({ name: "UsageError", code: "commander.unknownOption" });
    expect(document.error.message).toContain("--bogus");
  });

  it("scrubs a secret from the environment out of commander's own error messages", async () => {
    const secret = "env-secret-key-0123456789";
    const t = fakeTerminal({ env: { VOLC_SECRETKEY: secret } });
    expect(await main(["config", "get", "x", secret], t.io)).toBe(2);
    expect(t.err()).toContain("too many arguments");
    expect(t.err()).not.toContain(secret);
  });
});

describe("the built bin", () => {
  it("prints the version and exits 0", () => {
    const result = spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
  });

  it("exits 2 on a usage error", () => {
    const result = spawnSync(process.execPath, [BIN, "--nope"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option '--nope'");
  });
});
