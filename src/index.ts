// The public SDK surface of `jimeng`. Nothing outside this file is public.

export type { ErrorCode, ErrorJSON, ProviderName, ValidationIssue } from "./errors.js";
export {
  AbortError,
  ApiError,
  AuthError,
  ContentPolicyError,
  InsufficientCreditsError,
  isJimengError,
  JimengError,
  NetworkError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from "./errors.js";
export type { DebugEvent, RetryEvent } from "./http/transport.js";
export { VERSION } from "./version.js";
