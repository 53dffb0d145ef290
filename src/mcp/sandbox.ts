/**
 * Where the MCP server may read and write. An agent's arguments are untrusted: outputs go only inside the
 * configured output folder, and local inputs (reference images, batch files) only come from the allowed
 * folders; http(s) and data URLs are always accepted as inputs.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { ValidationError } from "../errors.js";
import { isInside } from "../fs/paths.js";

export interface SandboxOptions {
  /** The output folder (absolute). */
  out: string;
  /** Folders local inputs may come from (absolute); the output folder is always one. */
  inputDirs: readonly string[];
  /** Where relative input paths start (default: the process's working folder). */
  cwd?: string;
}

export { isInside };

export function isRemoteReference(reference: string): boolean {
  return /^(https?:\/\/|data:)/i.test(reference);
}

async function real(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    return path.resolve(file);
  }
}

export class Sandbox {
  readonly out: string;
  readonly inputDirs: readonly string[];
  readonly #cwd: string;

  constructor(options: SandboxOptions) {
    this.out = path.resolve(options.out);
    this.inputDirs = [...new Set([this.out, ...options.inputDirs.map((dir) => path.resolve(dir))])];
    this.#cwd = options.cwd ?? process.cwd();
  }

  /** One line for tool descriptions: where local files may come from. */
  describeInputs(): string {
    return `local files only from ${this.inputDirs.join(", ")}; http(s) and data URLs are fine`;
  }

  /**
   * A local input's real path (symlinks followed), or a ValidationError naming `field` when it lies outside
   * every allowed folder. URLs pass unchanged.
   */
  async input(reference: string, field: string): Promise<string> {
    if (isRemoteReference(reference)) return reference;
    const file = await real(path.resolve(this.#cwd, reference));
    for (const dir of this.inputDirs) {
      if (isInside(await real(dir), file)) return file;
    }
    throw new ValidationError([
      {
        path: field,
        message: `${reference} is outside the folders this server reads from (${this.inputDirs.join(", ")}); pass an http(s) URL, or start the server with --allow-dir`,
      },
    ]);
  }

  /** A folder inside the output folder (e.g. a batch run's), refusing anything that would escape it. */
  outputFolder(...segments: string[]): string {
    const folder = path.resolve(this.out, ...segments);
    if (!isInside(this.out, folder)) {
      throw new ValidationError([{ path: "out", message: `${folder} is outside ${this.out}` }]);
    }
    return folder;
  }

  /** Whether a written file lies inside the output folder (after symlinks). */
  async holds(file: string): Promise<boolean> {
    return isInside(await real(this.out), await real(file));
  }
}
