// Text-to-image: submit, wait with a good polling schedule, download. Run: npx tsx examples/generate.ts
import { Jimeng } from "jimeng";
import { providerFromEnv } from "./provider-from-env.js";

const { provider, maxPollIntervalMs, stop } = await providerFromEnv();
const jimeng = new Jimeng({ provider, maxPollIntervalMs });
try {
  const result = await jimeng.generate(
    { prompt: "an orange cat under cherry blossoms, anime style", ratio: "16:9", count: 1 },
    {
      download: { dir: process.env.OUT_DIR ?? "jimeng-output" },
      onSubmitted: (ref) => console.error(`submitted ${ref.taskId} (${ref.model})`),
    },
  );
  for (const file of result.files ?? [])
    console.log(`${file.file}  ${file.bytes} bytes  sha256 ${file.sha256}`);
} finally {
  await jimeng.close();
  await stop();
}
