import { HistogramTally, labelString, type Labels, type MetricName, type Sample } from "../domain/prometheus";
import type { Bindings } from "../env";
import { log } from "./log";
import { metricsStub } from "./stubs";

/**
 * The proxy's events, counted where they happen. Each isolate (the Worker's, and each tenant object's)
 * keeps its counts in memory and adds them to the deployment's `ProxyMetrics` object at most every
 * FLUSH_MS, in one call, kept alive with `waitUntil`; a scrape flushes its own isolate first. The same
 * events go to a Workers Analytics Engine dataset when `ANALYTICS` is bound.
 */
const FLUSH_MS = 5_000;
/** Analytics Engine points kept between flushes; more are dropped (the counters still count them). */
const MAX_POINTS = 1_000;
/** Counter series kept between flushes (labels are bounded; this guards against a bug that is not). */
const MAX_PENDING = 5_000;

const pending = new Map<string, Sample>();
const histograms = new HistogramTally();
const points: AnalyticsEngineDataPoint[] = [];
let lastFlushAt = 0;
/** When the pending flush was scheduled (0: none); one whose context died is replaced after a while. */
let flushScheduledAt = 0;

function add(s: Sample): void {
  const key = `${s.name}|${s.labels}`;
  const current = pending.get(key);
  if (current) current.value += s.value;
  else if (pending.size < MAX_PENDING) pending.set(key, { ...s });
}

function count(name: MetricName, labels: Labels, by = 1): void {
  add({ name, labels: labelString(labels), value: by });
}

function point(blobs: string[], doubles: number[]): void {
  if (points.length < MAX_POINTS) points.push({ indexes: [blobs[0]!], blobs, doubles });
}

/** How an HTTP exchange went: its status, or that no answer came. */
export type Outcome = { status: number } | { error: "network" | "timeout" };

/** A failed exchange's kind (`http_429`, `http_4xx`, `http_5xx`, `network`, `timeout`), or null when it succeeded. */
export function failureKind(outcome: Outcome): string | null {
  if ("error" in outcome) return outcome.error;
  if (outcome.status < 300) return null;
  return outcome.status === 429 ? "http_429" : `http_${Math.floor(outcome.status / 100)}xx`;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The events the proxy counts. */
export const metrics = {
  /** An answered HTTP request: its route pattern (never the raw path), method and status. */
  request(r: { method: string; route: string; status: number; durationMs: number; tenantId?: string }): void {
    const method = METHODS.has(r.method) ? r.method : "OTHER";
    count("runapi_proxy_http_requests_total", { method, route: r.route, status: String(r.status) });
    point(["request", method, r.route, String(r.status), r.tenantId ?? ""], [1, r.durationMs]);
  },
  /** A billable request admitted by a tenant's ledger. */
  create(r: { service: string; model: string; tenantId: string }): void {
    count("runapi_proxy_creates_total", { service: r.service, model: r.model });
    point(["create", r.service, r.model, r.tenantId], [1]);
  },
  /** A call to RunAPI: how long until its response headers, and whether it failed. */
  upstream(operation: string, outcome: Outcome, seconds: number): void {
    histograms.observe("runapi_proxy_upstream_request_duration_seconds", { operation }, seconds);
    const kind = failureKind(outcome);
    if (kind) count("runapi_proxy_upstream_errors_total", { operation, kind });
    point(["upstream", operation, kind ?? "ok"], [1, seconds * 1000]);
  },
  /** A webhook delivery attempt to a tenant that did not get a 2xx. */
  webhookFailure(kind: string): void {
    count("runapi_proxy_webhook_failures_total", { kind });
    point(["webhook_failure", kind], [1]);
  },
  /** A copy of an output file into the archive that failed: to be retried, or given up. */
  archiveFailure(outcome: "retry" | "gave_up"): void {
    count("runapi_proxy_archive_failures_total", { outcome });
    point(["archive_failure", outcome], [1]);
  },
};

/** Sends this isolate's counts to the metrics object now (and its events to Analytics Engine, when bound). */
export async function flushMetrics(env: Bindings): Promise<void> {
  flushScheduledAt = 0;
  lastFlushAt = Date.now();
  const batch = [...pending.values(), ...histograms.drain()];
  pending.clear();
  const events = points.splice(0);
  if (env.ANALYTICS) for (const p of events) env.ANALYTICS.writeDataPoint(p);
  if (!batch.length) return;
  try {
    await metricsStub(env).add(batch);
  } catch (err) {
    for (const s of batch) add(s); // counted again with the next flush
    log.warn("metrics_flush_failed", { series: batch.length, error: err instanceof Error ? err.name : "unknown" });
  }
}

/**
 * Flushes within FLUSH_MS when there is something to flush: one pending flush per isolate at a time,
 * kept alive by `keepAlive.waitUntil` (a request's context, or a Durable Object's state).
 */
export function flushSoon(env: Bindings, keepAlive: { waitUntil(promise: Promise<unknown>): void } | undefined): void {
  if (!pending.size && !histograms.size && !points.length) return;
  if (flushScheduledAt && Date.now() - flushScheduledAt < 3 * FLUSH_MS) return;
  flushScheduledAt = Date.now();
  const wait = Math.max(0, lastFlushAt + FLUSH_MS - Date.now());
  const run = new Promise((resolve) => setTimeout(resolve, wait)).then(() => flushMetrics(env));
  if (keepAlive) keepAlive.waitUntil(run);
}
