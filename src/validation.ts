import type { z } from "zod";
import { ValidationError, type ValidationIssue } from "./errors.js";

/**
 * zod issues as our issues: a dotted path naming the field, and zod's message. A strict object's unknown keys
 * come as one zod issue at the object's path; each becomes its own issue naming the key, so a typo such as
 * `ratoi` is named where the user wrote it.
 */
export function issuesFromZod(error: z.ZodError, prefix = ""): ValidationIssue[] {
  const pathOf = (parts: readonly PropertyKey[]) =>
    [prefix, ...parts.map(String)].filter((part) => part !== "").join(".");
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: pathOf([...issue.path, key]),
        message: "is not a known option",
      }));
    }
    return [{ path: pathOf(issue.path), message: issue.message }];
  });
}

/** Parses `input` with `schema`, or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(issuesFromZod(result.error, prefix));
}
