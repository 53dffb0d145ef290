// The public SDK surface of `jimeng`. Nothing outside this file is public.

export type { BatchIssue, BatchValidation, ValidateBatchOptions } from "./batch/files.js";
// Batches: files → validated jobs → concurrency and rate limits → journal (resume) → report.
export { BatchValidationError, loadBatch, validateBatch } from "./batch/files.js";
export type { BatchJob } from "./batch/job.js";
export type { JobSource } from "./batch/job-source.js";
export { batchFileJobs } from "./batch/job-source.js";
export type { LockOwner, OutputLock } from "./batch/lock.js";
export { BatchLockedError, lockOutput } from "./batch/lock.js";
export type { BatchReport, BatchReportJob } from "./batch/report.js";
export type { BatchEvent, BatchRunResult, OnBatchEvent, RunBatchOptions } from "./batch/runner.js";
export { runBatch } from "./batch/runner.js";
// The loopback emulator lives at `jimeng/emulator`, so that importing the SDK never loads it.
export type {
  DownloadErrorCode,
  ErrorCode,
  ErrorJSON,
  JimengErrorCode,
  ProviderName,
  ValidationIssue,
} from "./errors.js";
// Errors: one hierarchy for everything.
export {
  AbortError,
  ApiError,
  AuthError,
  ContentPolicyError,
  DownloadError,
  InsufficientCreditsError,
  isJimengError,
  JimengError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  TimeoutError,
  ValidationError,
  WaitTimeoutError,
} from "./errors.js";
// Transport hooks.
export type { DebugEvent, RetryEvent } from "./http/transport.js";
export type { DownloadedFile } from "./media/download.js";
export type { ArkModel } from "./providers/ark/catalog.js";
export { ARK_MODELS } from "./providers/ark/catalog.js";
// Providers.
export type {
  ArkCallOptions,
  ArkClientOptions,
  ArkImageCallOptions,
  ArkImageResult,
} from "./providers/ark/client.js";
export { ArkClient } from "./providers/ark/client.js";
export type { ArkProviderOptions } from "./providers/ark/provider.js";
export { ArkProvider } from "./providers/ark/provider.js";
export type { ArkResultRecord, ArkResultStore } from "./providers/ark/results.js";
export { fileResultStore, memoryResultStore } from "./providers/ark/results.js";
export type {
  ArkImageEvent,
  ArkImageRequest,
  ArkImageResponse,
  ArkListQuery,
  ArkTaskList,
  ArkVideoRequest,
  ArkVideoTask,
} from "./providers/ark/schemas.js";
export type { ProviderOptions } from "./providers/create.js";
export { createProvider } from "./providers/create.js";
export type { GenerationRequest, ImageInput } from "./providers/request.js";
export { generationRequestSchema } from "./providers/request.js";
export type {
  CreatedTask,
  ImageTaskInput,
  ServiceClientOptions,
  ServiceTaskRecord,
  ServiceTaskResult,
  ServiceTaskStatus,
  ServiceUser,
  TaskOutputLink,
  VideoTaskInput,
  WaitForResultOptions,
} from "./providers/service/client.js";
// A client of a shared `jimeng serve` service (the service itself is `jimeng/server`), and the same service
// as a provider: `new Jimeng({ provider: await ServiceProvider.connect({ url, apiKey }) })`.
export { ServiceClient, ServiceError } from "./providers/service/client.js";
export type { ServiceProviderOptions } from "./providers/service/provider.js";
export { ServiceProvider } from "./providers/service/provider.js";
export { SESSION_MODELS } from "./providers/session/catalog.js";
export type {
  GenerationResult as SessionGenerationResult,
  QueryResult as SessionQueryResult,
  SessionClientOptions,
} from "./providers/session/client.js";
export { SessionClient } from "./providers/session/client.js";
export type { SessionProviderOptions } from "./providers/session/provider.js";
export { SessionProvider } from "./providers/session/provider.js";
export type {
  GenericOption,
  GetOptions,
  ImageFormat,
  ImageLimits,
  ModelCapability,
  OutputKind,
  Provider,
  ProviderRequest,
  ResolvedImage,
  SessionRegion,
  SubmitOptions,
  TaskFailure,
  TaskKind,
  TaskOutput,
  TaskRef,
  TaskState,
  TaskStatus,
} from "./providers/types.js";
export { VISUAL_MODELS } from "./providers/visual/catalog.js";
export type {
  AigcMeta,
  GetResultOptions,
  LogoInfo,
  VisualClientOptions,
  VisualResult,
} from "./providers/visual/client.js";
export { VisualClient } from "./providers/visual/client.js";
export type { VisualProviderOptions } from "./providers/visual/provider.js";
export { VisualProvider } from "./providers/visual/provider.js";
export type { VolcCredentials, VolcSignerOptions } from "./signing/volc-signer.js";
// The Volcengine HMAC-SHA256 signer, for calling other Volcengine APIs with the same keys.
export { VolcSigner } from "./signing/volc-signer.js";
export type {
  DownloadOptions,
  GenerateOptions,
  GenerateResult,
  JimengOptions,
  JimengSubmitOptions,
} from "./tasks/client.js";
// The provider-neutral task engine: submit → wait → download.
export { Jimeng } from "./tasks/client.js";
export { TaskFailedError } from "./tasks/errors.js";
export type { OnTaskEvent, TaskEvent, TaskEventType } from "./tasks/events.js";
export type { TaskResult, WaitOptions } from "./tasks/wait.js";
export { VERSION } from "./version.js";
