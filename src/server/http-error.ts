/**
 * The error every route throws for a refusal: an HTTP status and the seeds' `{error, message}` body, with
 * extra fields (seed 000's failed result carries `data`) and headers (`Retry-After`).
 */
export class HttpError extends Error {
  override name = "HttpError";

  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { error: this.error, message: this.message, ...this.extra };
  }
}

export const notFound = (what: string) => new HttpError(404, "not found", `${what} does not exist`);
export const forbidden = (message: string) => new HttpError(403, "forbidden", message);
