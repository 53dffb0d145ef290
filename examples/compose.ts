// Image-to-image with a local reference file. Run: npx tsx examples/compose.ts [path/to/image.png]
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Jimeng } from "jimeng";
import { providerFromEnv } from "./provider-from-env.js";

// Without an argument, a small PNG is written to a temp file and used (any JPEG, PNG or WebP file works).
const SAMPLE_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAADG0lEQVR4AQEQA+/8AMEO1ZwPsaYVwssg9ZIctqcm16Qr2oMntag68XIsqplD7XI4uH5G1HdK02JEtnhd6gCYD6zEGeaUF7K0It+gJM6SJsKoM+h5KayjP/JvMauPR+dxP79zR8t1UdlbRrJyY+wAlxOwoxrEihqrtCjnlifIkCvGoDfldS2unEXxaTSqiUzoakK8b03NblXYVkuya2jrAMQf7KQfzK0n37Mv7n0lrJ024Ys2z3g1upJI7GQ3qIZU7mBDsm5V12RWzlVSuWNr5gCjH8uvJ+GgKtV+Jq6KL8aiP/BwMa2IQ9t9RdNlP7OAWe5WQ6hwYeZWU7xWXchYatoAlSHAhiOzhii5mDTZoj/xejW8czm6jk/wYj2uc1DVblXXVEmtbWnuSU+qWWzeSWTEALIu7K818qc57pI52XIysXI4uI1O73BGxmBDs3pf71ZKsV9cz15m20RTqVh57DxcrAB8Jat3KapyLKlyMrGDQdOOT/BxRshcQKt2XOdjVs1PTK1mbu1IV7NLZshNd941XaYAqTryoD7tm0TvlUrwg0ndZT+zX0KwdlvmaVvZTEqmYGjfVWfSP1apUX3qOmW2OHHCAHcusXY0tm83s2Q4qmI9rW9NzXpf7mVX0ExKplxj1ltu4j5Vpkpz1kV42DBgpj2M5wCPP96FQteCSNuCUeaBWu9yWeBYTLZOS6teZtxcb+Q/VqlFasdKgecxYqg2fc4zitsAfT7KfEXRc0jMZ0e/WESsUkepW1jHZW7sVmnXPlWnRGrGS4PqM2exMXG7NpLpI2+rAHI/wGpCu2ZHvWZPyGtd3Wxp7WFp4kpauT5Vp0lx00qC6TNnsi9ttDeT6iZ5uR94sQCBUOR9V+h1W+VqXNtcWclMUrBDUaZIYsBQfOhGetwxY6oxcLk3k+knfcAecqkioOUAXECrVkOoUkepT02uUFe7VWfTV3fqT3rkPGm9MGClNXrKN5PqJnq7HnKpIZ7hGJTNAHpf73Nk7m1p7mZu7Vxw5U5r0T5gtDRcpTZsuzyK5DSM3yRxrh93sCKf5BmVzg95otBBg8Uh9l3bAAAAAElFTkSuQmCC";

async function sampleImage(): Promise<string> {
  const path = join(tmpdir(), "jimeng-example-reference.png");
  await writeFile(path, Buffer.from(SAMPLE_PNG, "base64"));
  return path;
}

const image = process.argv[2] ?? (await sampleImage());
const { provider, maxPollIntervalMs, stop } = await providerFromEnv();
const jimeng = new Jimeng({ provider, maxPollIntervalMs });
try {
  // Local files go inline as base64 on the Visual API (jimeng-i2i-3.0) and as a multipart upload to session servers.
  const model = provider.name === "visual" ? "jimeng-i2i-3.0" : "jimeng-4.5";
  const result = await jimeng.generate(
    { kind: "compose", prompt: "the same scene in autumn colours", model, images: [image] },
    { download: { dir: process.env.OUT_DIR ?? "jimeng-output" } },
  );
  for (const file of result.files ?? []) console.log(file.file);
} finally {
  await jimeng.close();
  await stop();
}
