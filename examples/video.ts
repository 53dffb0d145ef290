// Text-to-video, 5 seconds. Video URLs expire after an hour, so the file is downloaded as soon as it is ready.
// Run: npx tsx examples/video.ts
import { Jimeng } from "jimeng";
import { providerFromEnv } from "./provider-from-env.js";

const { provider, maxPollIntervalMs, stop } = await providerFromEnv();
const jimeng = new Jimeng({ provider, maxPollIntervalMs });
try {
  const result = await jimeng.generate(
    { kind: "video", prompt: "waves rolling onto a beach at sunset, slow camera push", duration: 5 },
    {
      timeout: 20 * 60_000,
      download: { dir: process.env.OUT_DIR ?? "jimeng-output" },
      onEvent: (event) => {
        if (event.type === "status") console.error(`status: ${event.status.status}`);
      },
    },
  );
  for (const file of result.files ?? []) console.log(`${file.file} (${file.contentType})`);
} finally {
  await jimeng.close();
  await stop();
}
