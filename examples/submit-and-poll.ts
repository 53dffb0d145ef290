// Submit now, wait later, with a deadline and Ctrl-C support. The task id is kept, so an interrupted wait can
// be resumed (here: printed as the CLI command that resumes it). Run: npx tsx examples/submit-and-poll.ts
import { AbortError, Jimeng, TimeoutError } from "jimeng";
import { providerFromEnv } from "./provider-from-env.js";

const { provider, maxPollIntervalMs, stop } = await providerFromEnv();
const jimeng = new Jimeng({ provider, maxPollIntervalMs });
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
try {
  const ref = await jimeng.submit({ prompt: "a lighthouse on a cliff at dawn, watercolor", count: 1 });
  console.error(`submitted ${ref.taskId}; a TaskRef is plain JSON you can store:`, JSON.stringify(ref));

  const result = await jimeng.waitFor(ref, {
    signal: controller.signal,
    timeout: Number(process.env.WAIT_MS ?? 5 * 60_000),
    onUpdate: (status) => console.error(`  ${status.status}`),
  });
  console.log(result.status.outputs.map((output) => output.url).join("\n"));
} catch (error) {
  if (error instanceof TimeoutError || error instanceof AbortError) {
    console.error(
      `stopped waiting; the task goes on. Resume with: jimeng result ${error.taskId} --wait --download`,
    );
    process.exitCode = error instanceof TimeoutError ? 4 : 130;
  } else {
    throw error;
  }
} finally {
  await jimeng.close();
  await stop();
}
