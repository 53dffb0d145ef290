import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";

/** A line of a tracked file that names a place outside the clone. */
export interface Finding {
  file: string;
  line: number;
  text: string;
}

/** Absolute prefixes that only exist on some machine: the clone's own parent, home and the workspace roots. */
function machinePrefixes(root: string): string[] {
  const workspaceRoots = ["work", "root"].map((name) => `/${name}/`);
  const prefixes = new Set([`${dirname(resolve(root))}/`, `${homedir()}/`, ...workspaceRoots]);
  prefixes.delete("//");
  return [...prefixes];
}

function isOutside(root: string, target: string): boolean {
  const path = relative(resolve(root), target);
  return path === ".." || path.startsWith(`..${sep}`);
}

/**
 * Relative paths (`../sibling/x`) that leave the repository and name something real beside it. Source is read
 * from its own folder; CI scripts and the README from the repository root, where they run. Hostile test
 * inputs such as `../../victim/x` name nothing that exists, so they pass.
 */
function escapesToRealPlaces(
  lineText: string,
  file: string,
  root: string,
  exists: (path: string) => boolean,
): boolean {
  for (const match of lineText.matchAll(/(?<![\w./-])((?:\.\.\/)+)([\w.-]+(?:\/[\w.-]+)*)/g)) {
    const base = file.startsWith(".ci/") || !file.includes("/") ? root : dirname(join(root, file));
    const target = resolve(base, match[1] ?? "", match[2] ?? "");
    if (isOutside(root, target) && exists(target)) return true;
  }
  return false;
}

/** The lines of one file that name this machine's absolute paths or reach a real folder beside the clone. */
export function scanForOutsidePaths(
  file: string,
  text: string,
  root: string,
  exists: (path: string) => boolean = existsSync,
): Finding[] {
  const prefixes = machinePrefixes(root);
  const findings: Finding[] = [];
  text.split("\n").forEach((lineText, index) => {
    const outside =
      prefixes.some((prefix) => lineText.includes(prefix)) ||
      escapesToRealPlaces(lineText, file, root, exists);
    if (outside) findings.push({ file, line: index + 1, text: lineText.trim() });
  });
  return findings;
}
