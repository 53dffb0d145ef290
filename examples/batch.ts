// A batch from code: validate a batch file, run it with a concurrency limit, journal every step (so a re-run
// resumes without paying twice), and read the report. Run: npx tsx examples/batch.ts [examples/jobs.jsonl]
import { fileURLToPath } from "node:url";
import { Jimeng, loadBatch, runBatch } from "jimeng";
import { providerFromEnv } from "./provider-from-env.js";

const file = process.argv[2] ?? fileURLToPath(new URL("./jobs.jsonl", import.meta.url));
const out = process.env.OUT_DIR ?? "jimeng-output/batch";

// Every problem of the file, as file:line: field: message, before anything is sent (a BatchValidationError).
const jobs = await loadBatch(file);

const { provider, maxPollIntervalMs, stop } = await providerFromEnv();
const controller = new AbortController();
process.once("SIGINT", () => controller.abort()); // stop submitting; in-flight submits still reach the journal
try {
  const { report, interrupted, reportFile } = await runBatch({
    jobs,
    provider,
    jimeng: (wrapped) => new Jimeng({ provider: wrapped, maxPollIntervalMs }),
    out,
    concurrency: 4,
    resume: true, // a first run simply starts; a re-run polls what was already submitted
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === "end") console.error(`${event.job.id}: ${event.status}`);
      if (event.type === "throttled") console.error(`throttled: concurrency ${event.from} → ${event.to}`);
    },
  });
  console.log(
    `${report.succeeded}/${report.total} succeeded${interrupted ? " (interrupted)" : ""}; report: ${reportFile}`,
  );
  if (report.failed > 0) process.exitCode = 1;
} finally {
  await stop();
}
