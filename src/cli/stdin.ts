/**
 * `-` in place of a prompt or a batch file reads stdin; `--prompt-file <path>` reads a prompt from a file.
 * A terminal on stdin is refused: the command would sit waiting for typing that nobody announced.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.js";
import { writeFileSafely } from "../fs/safe-write.js";
import type { CliIO } from "./io.js";

/** All of stdin as UTF-8 text. `field` names what `-` stood for, for the error. */
export async function readStdin(io: CliIO, field: string): Promise<string> {
  const stdin = io.stdin;
  if (!stdin || stdin.isTTY) {
    throw new ValidationError([
      {
        path: field,
        message: "- reads stdin, but stdin is a terminal; pipe the text in (e.g. `cat file | jimeng …`)",
      },
    ]);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/^\uFEFF/, "");
}

/** The prompt: `--prompt-file` (a path, or - for stdin), `-` for stdin, else the words joined by spaces. */
export async function readPrompt(
  io: CliIO,
  words: string | string[] | undefined,
  promptFile: unknown,
): Promise<string> {
  const given = Array.isArray(words) ? words : words === undefined ? [] : [words];
  let text: string;
  if (typeof promptFile === "string") {
    if (given.length > 0) {
      throw new ValidationError([
        { path: "--prompt-file", message: "give the prompt either as words or with --prompt-file, not both" },
      ]);
    }
    text =
      promptFile === "-"
        ? await readStdin(io, "--prompt-file")
        : await readFile(promptFile, "utf8").catch((error: NodeJS.ErrnoException) => {
            throw new ValidationError([
              {
                path: "--prompt-file",
                message: `cannot read ${promptFile} (${error.code ?? error.message})`,
              },
            ]);
          });
  } else if (given.length === 1 && given[0] === "-") {
    text = await readStdin(io, "prompt");
  } else {
    text = given.join(" ");
  }
  // A file or a pipe ends with a newline that is not part of the prompt.
  text = text.replace(/\r?\n$/, "");
  if (text.trim() === "") throw new ValidationError([{ path: "prompt", message: "must not be empty" }]);
  return text;
}

/**
 * Pure: the batch format of text read from stdin, which has no file extension: a JSON array or an object with
 * `jobs` is `.json`; a first line that is a JSON object is `.jsonl`; anything else is prompts (`.txt`).
 */
export function stdinBatchFormat(text: string): "json" | "jsonl" | "txt" {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return "json";
  if (!trimmed.startsWith("{")) return "txt";
  const firstLine = trimmed.split("\n", 1)[0] ?? "";
  try {
    const first = JSON.parse(firstLine) as unknown;
    if (typeof first === "object" && first !== null && !("jobs" in first)) return "jsonl";
  } catch {
    // Not one object per line: a JSON document over several lines.
  }
  return "json";
}

/**
 * Saves a batch read from stdin as `stdin-<hash>.<format>` in `dir`, so that the run (and a later
 * `--resume`, which needs the same jobs) has a file to name. The same input gets the same name.
 */
export async function saveStdinBatch(io: CliIO, dir: string): Promise<string> {
  const text = await readStdin(io, "file");
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
  const file = path.join(dir, `stdin-${hash}.${stdinBatchFormat(text)}`);
  await writeFileSafely(file, text, { what: "batch file read from stdin" });
  return file;
}
