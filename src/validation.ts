import type { z } from "zod";
import { ValidationError, type ValidationIssue } from "./errors.js";

/** zod issues as our issues: a dotted path naming the field, and zod's message. */
export function issuesFromZod(error: z.ZodError, prefix = ""): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
    return { path, message: issue.message };
  });
}

/** Parses `input` with `schema`, or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(issuesFromZod(result.error, prefix));
}
