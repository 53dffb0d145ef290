/**
 * `jimeng completion <shell>`: scripts generated from the command table. The bash one is run in bash with
 * the words a user has typed, and what it offers is checked.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/command-table.js";
import { runMain } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "jimeng-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function script(shell: string): Promise<string> {
  const run = await runMain(["completion", shell], { env: {} });
  expect(run.code, run.err).toBe(0);
  return run.out;
}

/** What bash offers after `words` (the last one is the word being completed). */
function offered(bashScript: string, ...words: string[]): string[] {
  const file = join(dir, "jimeng.bash");
  writeFileSync(file, bashScript);
  const quoted = words.map((word) => `'${word}'`).join(" ");
  const result = spawnSync(
    "bash",
    [
      "-c",
      `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _jimeng; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8" },
  );
  expect(result.stderr).toBe("");
  return result.stdout.split("\n").filter((line) => line !== "");
}

describe("jimeng completion", () => {
  it("bash completes commands, each command's flags, choices and subcommands", async () => {
    const bash = await script("bash");
    expect(offered(bash, "jimeng", "")).toEqual(expect.arrayContaining(COMMANDS.map((spec) => spec.name)));
    expect(offered(bash, "jimeng", "ge")).toEqual(["generate"]);
    expect(offered(bash, "jimeng", "--provider", "session", "generate", "--rat")).toEqual(["--ratio"]);
    expect(offered(bash, "jimeng", "models", "--kind", "")).toEqual(["generate", "compose", "video"]);
    expect(offered(bash, "jimeng", "--provider", "")).toEqual(["visual", "session", "ark"]);
    expect(offered(bash, "jimeng", "config", "")).toEqual(
      expect.arrayContaining(["set", "get", "unset", "list", "path"]),
    );
    expect(offered(bash, "jimeng", "submit", "")).toEqual(
      expect.arrayContaining(["generate", "compose", "video"]),
    );
    // What a command's help hides is not offered either; a flag taking a path leaves it to file names.
    expect(offered(bash, "jimeng", "generate", "--dur")).toEqual([]);
    expect(offered(bash, "jimeng", "video", "--dur")).toEqual(["--duration"]);
    expect(offered(bash, "jimeng", "generate", "-o", "")).toEqual([]);
  });

  it("zsh loads the same function through bashcompinit; fish has a line for every command", async () => {
    const zsh = await script("zsh");
    expect(zsh).toContain("bashcompinit");
    expect(zsh).toContain("complete -F _jimeng jimeng");
    const fish = await script("fish");
    for (const spec of COMMANDS) expect(fish).toContain(`-n '__fish_use_subcommand' -a ${spec.name} `);
    expect(fish).toContain("complete -c jimeng -n '__fish_seen_subcommand_from video' -l duration -r");
    expect(fish).not.toContain("complete -c jimeng -n '__fish_seen_subcommand_from generate' -l duration");
  });

  it("refuses a shell it has no script for", async () => {
    const run = await runMain(["completion", "powershell"], { env: {} });
    expect(run.code).toBe(2);
    expect(run.err).toContain("powershell");
  });
});
