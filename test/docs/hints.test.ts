import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/command-table.js";
import { main } from "../../src/cli/main.js";
import { ENV_NAMES } from "../../src/setting-names.js";
import { fakeTerminal } from "../cli/helpers.js";

/**
 * Every hint, help text and message in the source names only variables, commands and flags that exist: the
 * environment variables of the settings table, the CLI's commands, and the flags its help lists.
 */
const SRC = fileURLToPath(new URL("../../src", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The text of every string literal and template part in a file: what the program can print. */
function literals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const texts: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) texts.push(node.text);
    else if (ts.isTemplateExpression(node)) {
      texts.push(node.head.text, ...node.templateSpans.map((span) => span.literal.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return texts;
}

async function helpText(argv: string[]): Promise<string> {
  const terminal = fakeTerminal();
  await main([...argv, "--help"], terminal.io);
  return terminal.out();
}

async function knownFlags(): Promise<Set<string>> {
  const paths: string[][] = [[]];
  for (const command of COMMANDS) {
    paths.push([command.name]);
    for (const sub of command.subcommands ?? []) paths.push([command.name, sub.name]);
  }
  const flags = new Set<string>();
  for (const path of paths) {
    for (const match of (await helpText(path)).matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) flags.add(match[0]);
  }
  return flags;
}

const ENV_PATTERN = /\b(?:JIMENG|VOLC|ARK)_[A-Z0-9_]+\b/g;
/** A command line quoted in code position: a whole literal, or after a backtick or parenthesis. */
const COMMAND_PATTERN = /(?:^|[`(])jimeng (?:(?:--provider [a-z]+|--?[a-z][a-z-]*) )*([a-z][a-z-]*)/g;
const FLAG_PATTERN = /(?<![\w-])--[a-z][a-z0-9-]*/g;
/** Flags of other programs that messages quote (node, npm). */
const FOREIGN_FLAGS = new Set(["--input-type", "--prefer-offline"]);

describe("hints tell the truth", () => {
  const texts = sourceFiles(SRC).flatMap((file) =>
    literals(file).map((text) => ({ file: file.slice(SRC.length + 1), text })),
  );

  it("finds the printable text of the source", () => {
    expect(texts.length).toBeGreaterThan(500);
    expect(texts.some(({ text }) => text.includes(ENV_NAMES.secretAccessKey))).toBe(true);
  });

  it("every environment variable named is one the CLI reads", () => {
    const known = new Set<string>(Object.values(ENV_NAMES));
    const unknown = texts.flatMap(({ file, text }) =>
      [...text.matchAll(ENV_PATTERN)]
        .map((match) => match[0])
        .filter((name) => !known.has(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("every `jimeng <command>` named is a command", () => {
    const commands = new Set(COMMANDS.map((command) => command.name));
    const unknown = texts.flatMap(({ file, text }) =>
      [...text.matchAll(COMMAND_PATTERN)]
        .map((match) => match[1] as string)
        .filter((name) => !commands.has(name))
        .map((name) => `${file}: jimeng ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("every --flag named is one the CLI's help lists", async () => {
    const flags = await knownFlags();
    expect(flags.has("--emulator")).toBe(true);
    const unknown = texts.flatMap(({ file, text }) =>
      [...text.matchAll(FLAG_PATTERN)]
        .map((match) => match[0])
        .filter((flag) => !flags.has(flag) && !FOREIGN_FLAGS.has(flag))
        .map((flag) => `${file}: ${flag}`),
    );
    expect(unknown).toEqual([]);
  });
});
