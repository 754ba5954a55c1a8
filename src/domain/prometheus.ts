/** The proxy's metrics as Prometheus text exposition format 0.0.4: their names and help, and the renderer. */

export type MetricType = "counter" | "gauge" | "histogram";

/** The metric families the proxy exports; counters and histograms are global totals, gauges are read at scrape. */
export const METRICS = {
  runapi_proxy_http_requests_total: { type: "counter", help: "HTTP requests answered, by method, route pattern and status" },
  runapi_proxy_creates_total: {
    type: "counter",
    help: "Billable requests admitted by a tenant's ledger (a task created, a chat completion held), by service and model",
  },
  runapi_proxy_upstream_request_duration_seconds: { type: "histogram", help: "Time to RunAPI's response headers, by operation" },
  runapi_proxy_upstream_errors_total: {
    type: "counter",
    help: "RunAPI calls that failed (an HTTP error status, a network error or a timeout), by operation and kind",
  },
  runapi_proxy_webhook_failures_total: { type: "counter", help: "Webhook deliveries to tenants that failed (each attempt), by kind" },
  runapi_proxy_archive_failures_total: {
    type: "counter",
    help: "Copies of output files into the archive that failed, by outcome (retry: tried again later; gave_up: the task keeps RunAPI's link)",
  },
  runapi_proxy_tenant_budget_usd: { type: "gauge", help: "A tenant's budget limit in its period" },
  runapi_proxy_tenant_spent_usd: { type: "gauge", help: "A tenant's spend (net of credits, never below 0) in the current window of the period" },
  runapi_proxy_tenant_reserved_usd: { type: "gauge", help: "Money a tenant has reserved for unfinished requests in the current window of the period" },
  runapi_proxy_tenant_unfinished_tasks: { type: "gauge", help: "A tenant's tasks not yet completed or failed" },
  runapi_proxy_tenants: { type: "gauge", help: "Tenants, by status" },
  runapi_proxy_upstream_capacity: {
    type: "gauge",
    help: "RunAPI's capacity (SPEC §14), by resource (tasks in flight, creates per minute) and limit (max: the operator's; effective: learned from 429s)",
  },
  runapi_proxy_upstream_capacity_in_use: {
    type: "gauge",
    help: "RunAPI's capacity in use, by resource: tasks in flight and creates in the last minute, as tenants last reported",
  },
  runapi_proxy_tenant_capacity_held: { type: "gauge", help: "The tasks in flight a tenant's lease allows now, and its fair target, by kind" },
  runapi_proxy_tenant_queued_tasks: { type: "gauge", help: "A tenant's tasks waiting in its queue for its share of RunAPI's capacity" },
  runapi_proxy_metrics_tenants_skipped: {
    type: "gauge",
    help: "Tenants left out of this scrape's tenant gauges (beyond the per-scrape cap, or whose object did not answer)",
  },
} as const satisfies Record<string, { type: MetricType; help: string }>;

export type MetricName = keyof typeof METRICS;
export type Labels = Record<string, string>;

/** Upper bounds (seconds) of the upstream latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** One sample: a series name (a family's, or a histogram's `_bucket`/`_sum`/`_count`), its labels and value. */
export interface Sample {
  name: string;
  labels: string;
  value: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Labels as the exposition format writes them, in a fixed order (so equal label sets are equal strings). */
export function labelString(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(",");
}

/**
 * Observations of histograms, kept as counts per bucket until they are drained into samples (an observation costs one
 * lookup and a few comparisons, not a sample and a key string per bucket). Label sets are bounded.
 */
export class HistogramTally {
  private readonly series = new Map<string, { name: MetricName; own: string; buckets: string[]; counts: number[]; sum: number; count: number }>();

  get size(): number {
    return this.series.size;
  }

  observe(name: MetricName, labels: Labels, value: number): void {
    // Looked up by name, label names and values as given, without sorting the names each time (a caller passes them in one order).
    const lookup = `${name}\u0000${Object.entries(labels).flat().join("\u0000")}`;
    let series = this.series.get(lookup);
    if (!series) {
      const buckets = [...LATENCY_BUCKETS.map(String), "+Inf"].map((le) => labelString({ ...labels, le }));
      series = { name, own: labelString(labels), buckets, counts: buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(lookup, series);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (value <= LATENCY_BUCKETS[i]!) series.counts[i]! += 1;
    series.counts[LATENCY_BUCKETS.length]! += 1; // +Inf
    series.sum += value;
    series.count += 1;
  }

  /** The samples observed since the last drain (each bucket an observation fell in, the sum and the count), and a fresh start. */
  drain(): Sample[] {
    const out: Sample[] = [];
    for (const { name, own, buckets, counts, sum, count } of this.series.values()) {
      for (let i = 0; i < counts.length; i++) if (counts[i]) out.push({ name: `${name}_bucket`, labels: buckets[i]!, value: counts[i]! });
      out.push({ name: `${name}_sum`, labels: own, value: sum }, { name: `${name}_count`, labels: own, value: count });
    }
    this.series.clear();
    return out;
  }
}

const familyOf = (series: string) => series.replace(/_(bucket|sum|count)$/, "");
const formatValue = (v: number) => (Number.isFinite(v) ? String(Number(v.toFixed(9))) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN");

/**
 * The exposition text: every family with `# HELP` and `# TYPE`, then its samples. A histogram's buckets
 * are cumulative here: the store keeps how many observations fell in each bucket (`value <= le`), which is
 * already cumulative, so every bucket of a label set is written, zeros included.
 */
export function renderExposition(samples: Sample[]): string {
  const byFamily = new Map<string, Sample[]>();
  for (const s of samples) {
    const family = familyOf(s.name) in METRICS ? familyOf(s.name) : s.name;
    if (!(family in METRICS)) continue;
    byFamily.set(family, [...(byFamily.get(family) ?? []), s]);
  }
  const lines: string[] = [];
  for (const [family, meta] of Object.entries(METRICS)) {
    lines.push(`# HELP ${family} ${meta.help}`, `# TYPE ${family} ${meta.type}`);
    const own = byFamily.get(family) ?? [];
    const series = meta.type === "histogram" ? completeHistogram(family, own) : own;
    for (const s of series.sort(bySeries)) lines.push(`${s.name}${s.labels ? `{${s.labels}}` : ""} ${formatValue(s.value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Adds the zero buckets a label set has not seen, so each label set has every `le`. */
function completeHistogram(family: string, samples: Sample[]): Sample[] {
  const have = new Set(samples.map((s) => `${s.name}|${s.labels}`));
  const out = [...samples];
  for (const s of samples.filter((x) => x.name === `${family}_count`)) {
    for (const le of [...LATENCY_BUCKETS.map(String), "+Inf"]) {
      const labels = s.labels ? `${s.labels},le="${le}"` : `le="${le}"`;
      const sorted = labelString(Object.fromEntries([...parseLabels(labels)]));
      if (!have.has(`${family}_bucket|${sorted}`)) out.push({ name: `${family}_bucket`, labels: sorted, value: 0 });
    }
  }
  return out;
}

function parseLabels(labels: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) map.set(m[1]!, m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\"));
  return map;
}

/** Series in a stable order; a histogram's buckets by their bound (`+Inf` last), then `_sum`, `_count`. */
function bySeries(a: Sample, b: Sample): number {
  const rank = (s: Sample) => (s.name.endsWith("_bucket") ? 0 : s.name.endsWith("_sum") ? 1 : s.name.endsWith("_count") ? 2 : 0);
  const base = (s: Sample) => s.labels.replace(/(^|,)le="[^"]*"/, "").replace(/^,/, "");
  const le = (s: Sample) => {
    const m = s.labels.match(/le="([^"]*)"/);
    return m ? (m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1])) : 0;
  };
  return base(a).localeCompare(base(b)) || rank(a) - rank(b) || le(a) - le(b);
}
