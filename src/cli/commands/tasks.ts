/**
 * `jimeng tasks`: the history of this machine's submissions from the local task list — when, which provider
 * and model, how each task ended (as far as a command saw it end) and the files saved. Reads one file; sends
 * nothing. `--json` prints `{ "tasks": [...] }`.
 */
import { readFile } from "node:fs/promises";
import { ValidationError } from "../../errors.js";
import type { CommandCall, CommandContext } from "../command-types.js";
import { emulatorRequested } from "../config.js";
import { EXIT } from "../exit-codes.js";
import { type TaskHistoryRow, taskHistory } from "../task-history.js";
import { taskIndexPath } from "../task-index.js";
import { safeText } from "../terminal-text.js";

const DEFAULT_LIMIT = 20;

function limitOf(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationError([
      { path: "--limit", message: `"${String(value)}" is not a whole number of 1 or more` },
    ]);
  }
  return n;
}

/** Pure: the human table, one task per row, then the files of each under it. */
export function tasksTable(rows: readonly TaskHistoryRow[], file: string): string {
  if (rows.length === 0) return `no tasks yet in ${file}`;
  const cells = rows.map((row) => [
    row.submittedAt.replace("T", " ").slice(0, 19),
    row.taskId ?? "(no id)",
    `${row.provider} · ${row.model}${row.server !== undefined ? ` via ${row.server}` : ""}`,
    row.kind,
    row.status,
    row.files.length ? `${row.files.length} file${row.files.length === 1 ? "" : "s"}` : "",
    [...(row.prompt ?? "")].slice(0, 40).join("").replace(/\s+/g, " "),
  ]);
  const header = ["SUBMITTED", "TASK", "PROVIDER · MODEL", "KIND", "STATUS", "FILES", "PROMPT"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => [...(row[column] as string)].length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell + " ".repeat(Math.max(0, (widths[column] as number) - [...cell].length)))
      .join("  ")
      .trimEnd();
  const lines = [line(header)];
  rows.forEach((row, index) => {
    lines.push(line((cells[index] as string[]).map((cell) => safeText(cell, 400))));
    for (const saved of row.files) lines.push(`    ${safeText(saved, 4000)}`);
  });
  return lines.join("\n");
}

export async function run(context: CommandContext, call: CommandCall): Promise<number> {
  const limit = limitOf(call.options.limit);
  const file = taskIndexPath(context.env, emulatorRequested(context.env, context.globals.emulator));
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const tasks = taskHistory(text, limit);
  context.output.result({ tasks }, () => tasksTable(tasks, file));
  return EXIT.ok;
}
