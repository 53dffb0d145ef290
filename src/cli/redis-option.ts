/**
 * `--redis <url>` (or JIMENG_REDIS_URL) and `--redis-prefix` of `serve`, `worker` and `batch`: the shared
 * queue's target, with its password registered with the output scrubber. Undefined when neither is set.
 */
import type { RedisTarget } from "../queue/bullmq.js";
import { ENV_NAMES } from "../setting-names.js";
import type { CommandContext } from "./command-types.js";

export async function redisOption(
  context: CommandContext,
  options: Readonly<Record<string, unknown>>,
): Promise<RedisTarget | undefined> {
  const flag = typeof options.redis === "string" ? options.redis : undefined;
  const url = flag ?? context.env[ENV_NAMES.redisUrl];
  if (!url) return undefined;
  const { redisTarget } = await import("../queue/bullmq.js");
  const target = redisTarget(url, {
    flag: flag ? "--redis" : ENV_NAMES.redisUrl,
    ...(typeof options.redisPrefix === "string" ? { prefix: options.redisPrefix } : {}),
  });
  if (target.secret) context.output.secrets.add(target.secret);
  return target;
}
