import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.js";
import { redisTarget } from "../../src/queue/bullmq.js";

function refusal(url: string): string {
  try {
    redisTarget(url);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((issue) => issue.message).join("; ");
    throw error;
  }
  throw new Error(`${url} was accepted`);
}

describe("--redis URLs", () => {
  it("reads host, port, database and password, and keeps the password out of what it prints", () => {
    const target = redisTarget("redis://:s3cret@queue.internal:6380/2", { prefix: "studio" });
    expect(target.connection).toMatchObject({
      host: "queue.internal",
      port: 6380,
      db: 2,
      password: "s3cret",
    });
    expect(target).toMatchObject({
      prefix: "studio",
      display: "redis://:***@queue.internal:6380/2",
      secret: "s3cret",
    });
  });

  it("says how to write a host without a scheme, and names the scheme it does not take", () => {
    expect(refusal("localhost:6379")).toBe('"localhost:6379" has no scheme: write redis://localhost:6379');
    expect(refusal("http://queue:6379")).toBe("use a redis:// or rediss:// URL, not http://");
    expect(refusal("redis://queue:6379/zero")).toContain("must be a number");
  });
});
