/**
 * The value parsers of `jimeng mcp`'s own flags. Imported by the command table, so it stays light.
 */
import { ValidationError } from "../errors.js";

const SIZE = /^(\d+)\s*(b|k|kb|kib|m|mb|mib)?$/i;
const UNIT: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** Pure: `--inline-max 256kb` in bytes (0 turns inline images off). */
export function parseByteSize(value: string, flag: string): number {
  const match = SIZE.exec(value.trim());
  if (!match) {
    throw new ValidationError([
      { path: flag, message: `"${value}" is not a size; use e.g. 256kb, 1mb or 0` },
    ]);
  }
  return Number(match[1]) * (UNIT[(match[2] ?? "b").toLowerCase()] ?? 1);
}

/** Repeatable `--allow-dir`: every value, in order. */
export function collectDir(value: string, previous?: unknown): string[] {
  if (value.trim() === "") throw new ValidationError([{ path: "--allow-dir", message: "must not be empty" }]);
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}
