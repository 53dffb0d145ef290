// `jimeng/server`: the task service of `jimeng serve`, to embed in your own process. A separate entry so that
// `import "jimeng"` never loads fastify or SQLite.
export type { QuotaOptions } from "./quotas.js";
export type { RunningServer, ServerOptions } from "./server.js";
export { createServer } from "./server.js";
