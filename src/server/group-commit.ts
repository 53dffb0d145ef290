/**
 * Group commit: the writes asked for during one turn of the event loop run in one SQLite transaction, so
 * that 200 task creations arriving together cost one commit (one append to the WAL) instead of 200. Each
 * write still runs in a savepoint of its own: one that throws (a quota, a balance) is rolled back alone and
 * its caller gets the error. Every promise settles only after the commit returned, so an answer sent on it
 * is about a row that is in the database file (`201` means stored, as before).
 */
import type { Store } from "../queue/store.js";

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private pending: Pending[] = [];
  /** Transactions committed, and writes they carried (for tests and the benchmark's notes). */
  readonly counters = { commits: 0, writes: 0 };

  constructor(private readonly store: Pick<Store, "transaction">) {}

  /** Runs `work` (synchronous, store calls only) in the next group's transaction. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const group = this.pending;
    this.pending = [];
    const outcomes: Outcome[] = [];
    try {
      this.store.transaction(() => {
        for (const item of group) {
          try {
            // A transaction inside a transaction is a savepoint: a throw undoes this item only.
            outcomes.push({ ok: true, value: this.store.transaction(item.work) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing of the group is stored.
      for (const item of group) item.reject(error);
      return;
    }
    this.counters.commits++;
    this.counters.writes += group.length;
    group.forEach((item, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
