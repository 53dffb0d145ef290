import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../../src/queue/store.js";
import { GroupCommit } from "../../src/server/group-commit.js";
import { newUser, startTestService, type TestService } from "./helpers.js";

describe("GroupCommit", () => {
  it("runs the writes of one event-loop turn in one transaction, a failing one rolled back alone", async () => {
    const store = new Store({ dir: ":memory:" });
    const writes = new GroupCommit(store);
    const insert = (id: string) => () => store.insertUser({ id, credits: 1, admin: false });
    const results = await Promise.allSettled([
      writes.run(insert("a")),
      writes.run(() => {
        store.insertUser({ id: "b", credits: 1, admin: false });
        throw new Error("refused after a write");
      }),
      writes.run(insert("c")),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(writes.counters).toEqual({ commits: 1, writes: 3 });
    expect(store.listUsers().map((user) => user.id)).toEqual(["a", "c"]);
    await writes.run(insert("d"));
    expect(writes.counters.commits).toBe(2);
    store.close();
  });

  it("rejects every write of a group whose commit fails, and stores none of them", async () => {
    const store = new Store({ dir: ":memory:" });
    const writes = new GroupCommit(store);
    const pending = [writes.run(() => store.insertUser({ id: "a", credits: 1, admin: false }))];
    store.close();
    await expect(pending[0]).rejects.toThrow();
    expect(writes.counters.commits).toBe(0);
  });
});

describe("task creation under concurrency", () => {
  let service: TestService;
  afterEach(async () => {
    await service.close();
  });

  it("answers 201 for every task stored and 429 for each over the quota when requests arrive together", async () => {
    service = await startTestService({ quotas: { maxActiveTasks: 3 } });
    const alice = await newUser(service, "alice");
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        service.call("POST", "/api/v1/ai/image/task", { key: alice.key, body: { prompt: `cat ${index}` } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 429, 429]);
    const stored = service.server.store.listTasks("alice", { limit: 10 }).tasks.map((task) => task.id);
    const accepted = answers.filter((answer) => answer.status === 201).map((a) => a.body.data.task_id);
    expect(stored.sort()).toEqual(accepted.sort());
  });

  it("refuses a deleted user's key at once, although keys are remembered between requests", async () => {
    service = await startTestService();
    const bob = await newUser(service, "bob");
    expect((await service.call("GET", "/api/credits", { key: bob.key })).status).toBe(200);
    await service.call("PUT", "/api/v1/users/bob", { key: service.adminKey, body: { credits: 7 } });
    expect((await service.call("GET", "/api/credits", { key: bob.key })).body.credits).toBe(7);
    await service.call("DELETE", "/api/v1/users/bob", { key: service.adminKey });
    expect((await service.call("GET", "/api/credits", { key: bob.key })).status).toBe(401);
  });
});
