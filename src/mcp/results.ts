/**
 * Tool results an agent can use: a short JSON summary (task id, provider, model, status, each file's path,
 * size and sha256), each saved file as a `resource_link` (file URI, MIME type, size), and small images inline
 * as `image` content, up to a size cap so that a 4K image never floods the model's context.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { CallToolResult } from "@modelcontextprotocol/server";
import type { DownloadedFile } from "../media/download.js";
import type { TaskRef, TaskState } from "../providers/types.js";

/** Default cap of an inline image, in bytes. */
export const DEFAULT_INLINE_MAX_BYTES = 256 * 1024;

type Content = CallToolResult["content"][number];

export interface TaskSummary {
  taskId: string;
  provider: string;
  model: string;
  kind: string;
  status: TaskState;
  files?: { path: string; mimeType: string; bytes: number; sha256: string }[];
  urls?: string[];
  error?: { code: string | number; message: string; requestId?: string };
  next?: string;
}

export function summaryOf(ref: TaskRef, status: TaskState, files?: readonly DownloadedFile[]): TaskSummary {
  const summary: TaskSummary = {
    taskId: ref.taskId,
    provider: ref.provider,
    model: ref.model,
    kind: ref.kind,
    status,
  };
  if (files) {
    summary.files = files.map((file) => ({
      path: file.file,
      mimeType: file.contentType,
      bytes: file.bytes,
      sha256: file.sha256,
    }));
  }
  return summary;
}

export function textResult(value: unknown, isError = false): CallToolResult {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return { content: [{ type: "text", text }], ...(isError ? { isError: true } : {}) };
}

/** Pure: the `resource_link` of a saved file. */
export function resourceLink(file: DownloadedFile): Content {
  return {
    type: "resource_link",
    uri: pathToFileURL(file.file).href,
    name: path.basename(file.file),
    mimeType: file.contentType,
    size: file.bytes,
  };
}

/** The result of a finished task: summary text, a link per file, inline images up to `inlineMaxBytes` each. */
export async function filesResult(
  summary: TaskSummary,
  files: readonly DownloadedFile[],
  inlineMaxBytes: number,
): Promise<CallToolResult> {
  const content: Content[] = [{ type: "text", text: JSON.stringify(summary, null, 2) }];
  for (const file of files) {
    content.push(resourceLink(file));
    if (file.contentType.startsWith("image/") && file.bytes <= inlineMaxBytes) {
      const data = await readFile(file.file);
      content.push({ type: "image", data: data.toString("base64"), mimeType: file.contentType });
    }
  }
  return { content };
}
