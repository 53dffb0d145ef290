import { afterEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../../src/emulator/server.js";
import { sessionRoutes } from "../../../src/emulator/session-routes.js";
import { ValidationError } from "../../../src/errors.js";
import { SessionProvider } from "../../../src/providers/session/provider.js";
import type { ProviderRequest, TaskRef } from "../../../src/providers/types.js";

let emulator: RunningEmulator | undefined;
const providers: SessionProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await emulator?.stop();
  emulator = undefined;
});

async function setup(style: "generic" | "split" | "both" = "both", sessionId = "prov-one,prov-two") {
  const clock = { now: 9_000_000 };
  emulator = await startEmulator({
    routes: [sessionRoutes],
    clock: () => clock.now,
    durations: { image: 1000, video: 1000 },
    credentials: { sessionId: "prov-one,prov-two,hk-prov-three" },
    sessionQueryStyle: style,
  });
  const provider = new SessionProvider({ sessionId, endpoint: emulator.url, sleep: async () => {} });
  providers.push(provider);
  const make = (overrides: Partial<ProviderRequest> = {}): ProviderRequest => ({
    kind: "generate",
    prompt: "a lighthouse",
    images: [],
    model: provider.resolveModel(undefined, overrides.kind ?? "generate"),
    ...overrides,
  });
  return { provider, clock, make, emulator };
}

describe("SessionProvider.resolveModel", () => {
  it("picks the default per kind and finds models by id or alias", async () => {
    const provider = new SessionProvider({ sessionId: "x" });
    providers.push(provider);
    expect(provider.resolveModel(undefined, "generate").id).toBe("jimeng-4.5");
    expect(provider.resolveModel(undefined, "compose").id).toBe("jimeng-4.5");
    expect(provider.resolveModel(undefined, "video").id).toBe("jimeng-video-3.5-pro");
    expect(provider.resolveModel("Seedream-4.0", "generate").id).toBe("jimeng-4.0");
    expect(provider.resolveModel("veo3", "video").id).toBe("jimeng-video-veo3");
  });

  it("names the alternatives for an unknown model or one that does not do the kind", () => {
    const provider = new SessionProvider({ sessionId: "x" });
    providers.push(provider);
    expect(() => provider.resolveModel("jimeng-9", "generate")).toThrow(/unknown session model.*jimeng-4\.5/);
    expect(() => provider.resolveModel("jimeng-4.5", "video")).toThrow(ValidationError);
  });
});

describe("SessionProvider tasks", () => {
  it("hands the history id to onSubmitted before returning, then maps running and succeeded", async () => {
    const { provider, clock, make } = await setup();
    const seen: TaskRef[] = [];
    const ref = await provider.submit(make(), { onSubmitted: (r) => void seen.push(r) });
    expect(seen).toEqual([ref]);
    expect(ref).toMatchObject({ provider: "session", model: "jimeng-4.5", kind: "generate" });
    expect(ref.taskId).toMatch(/^\d+$/);
    expect(ref.account).toMatch(/^[0-9a-f]{8}$/);
    expect(await provider.get(ref)).toMatchObject({ status: "running", outputs: [] });
    clock.now += 1000;
    const done = await provider.get(ref);
    expect(done.status).toBe("succeeded");
    expect(done.outputs).toHaveLength(4);
  });

  it("trims outputs to count, also after a restart (the ref carries it); a ref without one gets them all", async () => {
    const { provider, clock, make, emulator } = await setup();
    const ref = await provider.submit(make({ count: 1 }));
    clock.now += 1000;
    expect((await provider.get(ref)).outputs).toHaveLength(1);
    const restarted = new SessionProvider({ sessionId: "prov-one,prov-two", endpoint: emulator.url });
    providers.push(restarted);
    expect((await restarted.get(ref)).outputs).toHaveLength(1);
    const { count: _count, ...withoutCount } = ref;
    expect((await restarted.get(withoutCount)).outputs).toHaveLength(4);
  });

  it("maps a failed task to failed with the fail_code explained", async () => {
    const { provider, clock, make } = await setup("generic");
    const ref = await provider.submit(make({ prompt: "p [fail:2038]" }));
    clock.now += 1000;
    const status = await provider.get(ref);
    expect(status).toMatchObject({ status: "failed", error: { code: "2038" } });
    expect(status.status === "failed" && status.error.message).toMatch(/moderation/);
  });

  it("keeps the items of a partly failed task (30 with items) and reads 50 as success", async () => {
    const { provider, clock, make } = await setup("split");
    const partial = await provider.submit(make({ prompt: "p [partial]" }));
    const video = await provider.submit(
      make({
        kind: "video",
        prompt: "v [done:50]",
        model: provider.resolveModel(undefined, "video"),
        duration: 10,
      }),
    );
    clock.now += 1000;
    expect(await provider.get(partial)).toMatchObject({ status: "succeeded", outputs: [{}, {}] });
    expect(await provider.get(video)).toMatchObject({
      status: "succeeded",
      outputs: [{ url: expect.stringMatching(/\.mp4$/), contentType: "video/mp4" }],
    });
  });

  it("submits compositions of resolved local images", async () => {
    const { provider, clock, make } = await setup();
    const bytes = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    const ref = await provider.submit(
      make({
        kind: "compose",
        images: [{ source: "bytes", bytes, format: "png", width: 1, height: 1, name: "a.png" }],
      }),
    );
    clock.now += 1000;
    expect((await provider.get(ref)).outputs).toHaveLength(1);
  });

  it("refuses options the model does not take before sending anything", async () => {
    const { provider, make, emulator } = await setup();
    await expect(provider.submit(make({ seed: 42 }))).rejects.toThrow(
      /seed: model jimeng-4\.5 does not accept seed/,
    );
    await expect(
      provider.submit(make({ model: provider.resolveModel("nanobanana", "generate") })),
    ).rejects.toThrow(/not offered to cn sessions/);
    expect(emulator.counters.requests).toBe(0);
  });
});
