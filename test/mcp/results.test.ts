import { describe, expect, it } from "vitest";
import { ApiError, TimeoutError, ValidationError } from "../../src/errors.js";
import { failureOf, toolError } from "../../src/mcp/errors.js";
import { progressMessage, progressReporter } from "../../src/mcp/progress.js";
import { resourceLink, summaryOf } from "../../src/mcp/results.js";
import type { TaskRef } from "../../src/providers/types.js";

const ref: TaskRef = {
  provider: "visual",
  taskId: "7392616336519618328",
  model: "jimeng_t2i_v40",
  kind: "generate",
  submittedAt: "2026-01-01T00:00:00.000Z",
};

describe("MCP results and errors", () => {
  it("a resource link carries a file URI, the MIME type and the size", () => {
    expect(
      resourceLink({ index: 0, file: "/out/a cat-1.png", bytes: 42, sha256: "ab", contentType: "image/png" }),
    ).toEqual({
      type: "resource_link",
      uri: "file:///out/a%20cat-1.png",
      name: "a cat-1.png",
      mimeType: "image/png",
      size: 42,
    });
    expect(summaryOf(ref, "succeeded")).toMatchObject({
      taskId: ref.taskId,
      model: ref.model,
      provider: "visual",
    });
  });

  it("a validation error lists each field and says nothing was sent", () => {
    const failure = failureOf(
      new ValidationError([
        { path: "ratio", message: "7:5 is not a ratio of jimeng_t2i_v40" },
        { path: "images.1", message: "outside the allowed folders" },
      ]),
    );
    expect(failure.fields?.map((item) => item.field)).toEqual(["ratio", "images.1"]);
    expect(failure.error.message).toMatch(/nothing was sent/);
  });

  it("a remote failure keeps code, HTTP status and request id; a timeout says how to pick the task up", () => {
    const api = failureOf(
      new ApiError("Access Denied", { provider: "visual", httpStatus: 403, code: 50400, requestId: "req-1" }),
    );
    expect(api.error).toMatchObject({ code: 50400, httpStatus: 403, requestId: "req-1" });
    const timeout = failureOf(new TimeoutError("still running", { taskId: ref.taskId }), ref.taskId);
    expect(timeout.next).toContain(`"taskId": "${ref.taskId}"`);
  });

  it("tool errors pass the scrubber", () => {
    const result = toolError(new Error("bad key sk-secret"), (text) => text.replaceAll("sk-secret", "***"));
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result)).not.toContain("sk-secret");
  });

  it("progress counts up and says what is going on", async () => {
    const sent: { progress: number; message: string }[] = [];
    let now = 1000;
    const { onEvent, flush } = progressReporter(
      async (message) => {
        sent.push(message);
      },
      () => now,
    );
    onEvent({ type: "submitted", ref });
    now = 3500;
    onEvent({
      type: "status",
      ref,
      status: { ref, status: "running", outputs: [] },
      poll: 2,
      elapsedMs: 2500,
    });
    onEvent({ type: "download", ref, index: 0, bytes: 0, total: 20 });
    onEvent({ type: "download", ref, index: 0, bytes: 20, total: 20 });
    onEvent({ type: "done", ref, status: "succeeded", polls: 2, files: 1 });
    await flush();
    expect(sent).toEqual([
      { progress: 1, message: `submitted task ${ref.taskId} (visual · jimeng_t2i_v40)` },
      { progress: 2, message: "running after 2.5 s (poll 2)" },
      { progress: 3, message: "downloading after 2.5 s" },
    ]);
    expect(
      progressMessage(
        { type: "retry", ref, attempt: 1, delayMs: 499.6, error: new TimeoutError("slow") },
        0,
        0,
      ),
    ).toBe("poll failed (TIMEOUT); trying again in 500 ms");
  });
});
