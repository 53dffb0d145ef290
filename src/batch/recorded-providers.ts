/**
 * A recorded task can only be polled through the provider (and endpoint) that accepted it: through another
 * one the poll fails, and submitting the job again would pay twice. Collects, job by job, the recorded tasks
 * whose provider is not configured for this run (or sits at another endpoint), then refuses the resume before
 * anything is sent.
 */
import { CONFIG_ERROR_CODE, JimengError, type ProviderName } from "../errors.js";
import type { Provider } from "../providers/types.js";
import { withoutCredentials } from "./journal.js";
import type { PlannedJob } from "./plan.js";

/** Ids kept per problem for the message; the rest are counted. */
const NAMED = 3;

interface Problem {
  count: number;
  named: string[];
}

export class RecordedProviderCheck {
  private readonly missing = new Map<ProviderName, Problem>();
  private readonly moved: Problem = { count: 0, named: [] };

  constructor(
    private readonly providerNamed: (name: ProviderName) => Provider | undefined,
    private readonly checkEndpoints: boolean,
  ) {}

  note(planned: PlannedJob): void {
    const ref = planned.ref;
    if (planned.action !== "poll" || ref === undefined) return;
    const provider = this.providerNamed(ref.provider);
    if (provider === undefined) {
      const problem = this.missing.get(ref.provider) ?? { count: 0, named: [] };
      this.missing.set(ref.provider, problem);
      add(problem, planned.job.id);
      return;
    }
    const recorded = planned.previous?.endpoint;
    const current = provider.endpoint === undefined ? undefined : withoutCredentials(provider.endpoint);
    if (this.checkEndpoints && recorded !== undefined && current !== undefined && recorded !== current) {
      add(this.moved, `${planned.job.id} (task ${ref.taskId} at ${recorded}, this run uses ${current})`);
    }
  }

  /** Throws a CONFIG_ERROR naming the problems, when there are any. */
  verify(): void {
    const problems: string[] = [];
    for (const [name, problem] of this.missing) {
      problems.push(
        `${problem.count} recorded task(s) were submitted through the ${name} provider, which has no credentials in this run (${preview(problem)})`,
      );
    }
    if (this.moved.count > 0) {
      problems.push(
        `${this.moved.count} recorded task(s) were submitted to another endpoint: ${preview(this.moved)}`,
      );
    }
    if (problems.length === 0) return;
    throw new JimengError(`cannot resume: ${problems.join("; ")}. Nothing was sent.`, {
      code: CONFIG_ERROR_CODE,
      hint: "configure that provider's credentials and endpoint as in the run that submitted them, then resume again; polling elsewhere fails, and submitting again would pay twice",
    });
  }
}

function add(problem: Problem, item: string): void {
  problem.count++;
  if (problem.named.length < NAMED) problem.named.push(item);
}

function preview({ count, named }: Problem): string {
  return count <= NAMED ? named.join(", ") : `${named.join(", ")} and ${count - NAMED} more`;
}
