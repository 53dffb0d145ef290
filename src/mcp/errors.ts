/**
 * Tool errors an agent can act on: which fields to change (a ValidationError lists each field and why, and
 * says nothing was sent), or the remote failure's code, request id and what to do next. Every text passes the
 * credential scrubber before it leaves the server.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { AbortError, JimengError, TimeoutError, ValidationError } from "../errors.js";
import { textResult } from "./results.js";

export interface ToolFailure {
  error: {
    name: string;
    code: string | number;
    message: string;
    httpStatus?: number;
    requestId?: string;
    hint?: string;
  };
  taskId?: string;
  fields?: { field: string; message: string }[];
  next?: string;
}

/** Pure: what an agent is told about a failed call. */
export function failureOf(error: unknown, taskId?: string): ToolFailure {
  if (error instanceof ValidationError) {
    const fields = error.issues.map((issue) => ({
      field: issue.path || "arguments",
      message: issue.message,
    }));
    return {
      error: {
        name: "ValidationError",
        code: "INVALID_ARGUMENT",
        message: `invalid arguments (nothing was sent): ${fields.map((item) => `${item.field}: ${item.message}`).join("; ")}`,
        ...(error.hint ? { hint: error.hint } : {}),
      },
      fields,
    };
  }
  const failure: ToolFailure = {
    error: {
      name: "Error",
      code: "UNEXPECTED",
      message: error instanceof Error ? error.message : String(error),
    },
  };
  if (error instanceof JimengError) {
    const json = error.toJSON();
    failure.error = {
      name: error.name,
      code: json.code,
      message: json.message,
      ...(json.httpStatus !== undefined ? { httpStatus: json.httpStatus } : {}),
      ...(json.requestId ? { requestId: json.requestId } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
    };
  }
  if (taskId !== undefined) {
    failure.taskId = taskId;
    if (error instanceof TimeoutError || error instanceof AbortError) {
      failure.next = `the task keeps running upstream; call the result tool with {"taskId": "${taskId}", "wait": true}`;
    }
  }
  return failure;
}

export function toolError(error: unknown, scrub: (text: string) => string, taskId?: string): CallToolResult {
  const result = textResult(failureOf(error, taskId), true);
  for (const item of result.content) if (item.type === "text") item.text = scrub(item.text);
  return result;
}
