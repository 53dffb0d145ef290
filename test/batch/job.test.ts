import { describe, expect, it } from "vitest";
import { validateJobs } from "../../src/batch/files.js";
import { closestName, toGenerationRequest } from "../../src/batch/job.js";

async function hashOf(job: Record<string, unknown>): Promise<string> {
  const result = await validateJobs([job]);
  if (!result.ok) throw new Error(result.messages.join("\n"));
  return result.jobs[0]!.hash;
}

describe("job content hash", () => {
  it("is the same for jobs that ask for the same thing, whatever their id, name or key order", async () => {
    const a = await hashOf({ id: "a", prompt: "cat", ratio: "1:1", seed: 3, name: "{id}" });
    const b = await hashOf({ seed: 3, ratio: "1:1", prompt: "  cat ", id: "b", kind: "generate" });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it("changes when anything sent to the provider changes", async () => {
    const base = { prompt: "cat", ratio: "1:1" };
    const hashes = await Promise.all([
      hashOf(base),
      hashOf({ ...base, prompt: "dog" }),
      hashOf({ ...base, ratio: "16:9" }),
      hashOf({ ...base, seed: 1 }),
      hashOf({ ...base, model: "m" }),
      hashOf({ ...base, provider: "visual" }),
      hashOf({ ...base, kind: "video" }),
      hashOf({ ...base, images: ["https://example.com/a.png"] }),
    ]);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe("job ids", () => {
  it("accepts numeric ids as strings and rejects ids with slashes", async () => {
    const result = await validateJobs([
      { id: 7, prompt: "a" },
      { id: "a/b", prompt: "b" },
    ]);
    expect(result.jobs.map((job) => job.id)).toEqual(["7"]);
    expect(result.messages).toEqual(["<jobs>:2: id: must not contain slashes or control characters"]);
  });
});

describe("closestName", () => {
  it("suggests a known name for a likely typo and nothing for an unrelated word", () => {
    expect(closestName("promt", ["prompt", "ratio"])).toBe("prompt");
    expect(closestName("Ratio", ["prompt", "ratio"])).toBe("ratio");
    expect(closestName("colour", ["prompt", "ratio"])).toBeUndefined();
  });
});

describe("toGenerationRequest", () => {
  it("keeps what the provider needs and drops the batch's own bookkeeping", async () => {
    const result = await validateJobs([
      { id: "a", name: "{id}", provider: "visual", prompt: "p", ratio: "1:1", images: ["https://x/y.png"] },
    ]);
    expect(toGenerationRequest(result.jobs[0]!)).toEqual({
      kind: "generate",
      prompt: "p",
      ratio: "1:1",
      images: ["https://x/y.png"],
    });
  });
});
