/**
 * Prometheus text for `GET /metrics`: tasks by state, queue depth, upstream requests, and a latency
 * histogram of the HTTP routes. Counters live in memory (they restart at 0, as Prometheus expects).
 */
import type { StoredTaskStatus } from "../queue/store.js";

const BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  /** Upstream calls by operation (submit, poll). */
  readonly upstream: Record<string, number> = { submit: 0, poll: 0 };
  private readonly latency = new Map<string, Histogram>();
  private readonly responses = new Map<string, number>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let histogram = this.latency.get(key);
    if (!histogram) {
      histogram = { counts: BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(key, histogram);
    }
    const counts = histogram.counts;
    BUCKETS_SECONDS.forEach((bound, index) => {
      if (seconds <= bound) counts[index] = (counts[index] ?? 0) + 1;
    });
    histogram.sum += seconds;
    histogram.count++;
    const statusKey = `${key} ${status}`;
    this.responses.set(statusKey, (this.responses.get(statusKey) ?? 0) + 1);
  }

  render(state: { tasks: Record<StoredTaskStatus, number>; queueDepth: number; inFlight: number }): string {
    const lines: string[] = [];
    const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    lines.push("# HELP jimeng_tasks Tasks in the store by state.", "# TYPE jimeng_tasks gauge");
    for (const [status, n] of Object.entries(state.tasks)) lines.push(`jimeng_tasks{state="${status}"} ${n}`);
    lines.push("# HELP jimeng_queue_depth Tasks waiting for a worker.", "# TYPE jimeng_queue_depth gauge");
    lines.push(`jimeng_queue_depth ${state.queueDepth}`);
    lines.push(
      "# HELP jimeng_tasks_in_flight Tasks a worker is running.",
      "# TYPE jimeng_tasks_in_flight gauge",
    );
    lines.push(`jimeng_tasks_in_flight ${state.inFlight}`);
    lines.push(
      "# HELP jimeng_upstream_requests_total Requests to the provider.",
      "# TYPE jimeng_upstream_requests_total counter",
    );
    for (const [op, n] of Object.entries(this.upstream))
      lines.push(`jimeng_upstream_requests_total{op="${op}"} ${n}`);
    lines.push(
      "# HELP jimeng_http_requests_total HTTP answers by route and status.",
      "# TYPE jimeng_http_requests_total counter",
    );
    for (const [key, n] of this.responses) {
      const [method, route, status] = key.split(" ");
      lines.push(
        `jimeng_http_requests_total{method="${method}",route="${label(route ?? "")}",status="${status}"} ${n}`,
      );
    }
    lines.push(
      "# HELP jimeng_http_request_duration_seconds HTTP latency by route.",
      "# TYPE jimeng_http_request_duration_seconds histogram",
    );
    for (const [key, histogram] of this.latency) {
      const [method, route] = key.split(" ");
      const labels = `method="${method}",route="${label(route ?? "")}"`;
      BUCKETS_SECONDS.forEach((bound, index) => {
        lines.push(
          `jimeng_http_request_duration_seconds_bucket{${labels},le="${bound}"} ${histogram.counts[index]}`,
        );
      });
      lines.push(`jimeng_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${histogram.count}`);
      lines.push(`jimeng_http_request_duration_seconds_sum{${labels}} ${histogram.sum}`);
      lines.push(`jimeng_http_request_duration_seconds_count{${labels}} ${histogram.count}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
