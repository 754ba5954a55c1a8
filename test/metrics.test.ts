import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Bindings } from "../src/env";
import { pathOf, upstreamOperation } from "../src/lib/upstream-meter";
import { ADMIN_TOKEN, api, expectError, proxy, t2v, tenantWithKey } from "./helpers";

type Family = {
  name: string;
  help: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
};

const HISTOGRAM = "runapi_proxy_upstream_request_duration_seconds";

/**
 * Scrapes `/admin/v1/metrics` and parses it with a Prometheus text-format parser (parse-prometheus-text-format,
 * a port of the official Python client's parser): every line must parse. That parser folds a histogram's
 * label sets into one (it only models unlabelled histograms), so the text is parsed twice: as served, and
 * with the histogram typed `untyped`, which keeps each `_bucket`/`_sum`/`_count` series with its labels.
 */
async function scrape(via: (req: Request) => Promise<Response> = (req) => proxy(new URL(req.url).pathname, req)): Promise<Family[]> {
  const res = await via(new Request("https://proxy.test/admin/v1/metrics", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const typed = parsePrometheusTextFormat(text) as Family[];
  expect(typed.find((f) => f.name === HISTOGRAM)?.type).toBe("HISTOGRAM");
  const series = parsePrometheusTextFormat(text.replace(`# TYPE ${HISTOGRAM} histogram`, `# TYPE ${HISTOGRAM} untyped`)) as Family[];
  return [...typed, ...series.filter((f) => f.name.startsWith(`${HISTOGRAM}_`))];
}

/** The value of one series (0 when absent); `labels` must match exactly. */
function value(families: Family[], name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  const m = family?.metrics.find((x) => JSON.stringify(Object.entries(x.labels ?? {}).sort()) === JSON.stringify(Object.entries(labels).sort()));
  return m ? Number(m.value) : 0;
}

const CREATE_ROUTE = "/api/v1/hailuo/text_to_video";
const MODEL = "hailuo-02-text-to-video-standard";

describe("GET /admin/v1/metrics", () => {
  it("is Prometheus text: every family typed and described, counters that move with traffic", async () => {
    const before = await scrape();
    for (const name of [
      "runapi_proxy_http_requests_total",
      "runapi_proxy_creates_total",
      HISTOGRAM,
      "runapi_proxy_upstream_errors_total",
      "runapi_proxy_webhook_failures_total",
      "runapi_proxy_archive_failures_total",
      "runapi_proxy_tenant_spent_usd",
    ]) {
      expect(before.map((f) => f.name)).toContain(name);
    }
    const { tenantId, key } = await tenantWithKey({ budget: { limit_usd: 5, period: "day" } });
    expect((await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("one") })).status).toBe(200);
    expect((await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("two") })).status).toBe(200);
    expect((await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("bad", { duration_seconds: 7 }) })).status).toBe(400);
    // RunAPI failing (5xx) is outcome unknown: 202, the task held and reconciled.
    expect((await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("upstream down [sim:500]") })).status).toBe(202);

    const after = await scrape();
    const requests = (status: string, f: Family[]) => value(f, "runapi_proxy_http_requests_total", { method: "POST", route: CREATE_ROUTE, status });
    expect(requests("200", after) - requests("200", before)).toBe(2);
    expect(requests("400", after) - requests("400", before)).toBe(1);
    const creates = (f: Family[]) => value(f, "runapi_proxy_creates_total", { service: "hailuo", model: MODEL });
    expect(creates(after) - creates(before)).toBe(3); // the [sim:500] one was admitted too, and is held
    const upstream = (f: Family[]) => value(f, `${HISTOGRAM}_count`, { operation: "create" });
    expect(upstream(after) - upstream(before)).toBe(5); // two accepted, three tries of the failing one
    const errors = (f: Family[]) => value(f, "runapi_proxy_upstream_errors_total", { operation: "create", kind: "http_5xx" });
    expect(errors(after) - errors(before)).toBe(3);
    // Cumulative buckets, every bound written, `+Inf` equal to the count.
    const buckets = after.find((f) => f.name === `${HISTOGRAM}_bucket`)!.metrics.filter((m) => m.labels?.operation === "create");
    expect(buckets.map((m) => m.labels!.le)).toEqual(["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"]);
    const counts = buckets.map((m) => Number(m.value));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(upstream(after));

    // Gauges from the tenant's object: three $0.30 tasks held (the one RunAPI failed is still being found out), nothing spent yet.
    expect(value(after, "runapi_proxy_tenant_reserved_usd", { tenant: tenantId, period: "day" })).toBe(0.9);
    expect(value(after, "runapi_proxy_tenant_spent_usd", { tenant: tenantId, period: "day" })).toBe(0);
    expect(value(after, "runapi_proxy_tenant_budget_usd", { tenant: tenantId, period: "day" })).toBe(5);
    expect(value(after, "runapi_proxy_tenant_unfinished_tasks", { tenant: tenantId })).toBe(3);
  });

  it("counts are global: what another isolate flushed into the metrics object is in every scrape", async () => {
    const route = `/elsewhere/${crypto.randomUUID()}`;
    const stub = env.METRICS.get(env.METRICS.idFromName("metrics"));
    // What another isolate's flush sends: its counts since its last flush, added to the totals.
    await stub.add([{ name: "runapi_proxy_http_requests_total", labels: `method="GET",route="${route}",status="200"`, value: 7 }]);
    await stub.add([{ name: "runapi_proxy_http_requests_total", labels: `method="GET",route="${route}",status="200"`, value: 2 }]);
    expect(value(await scrape(), "runapi_proxy_http_requests_total", { method: "GET", route, status: "200" })).toBe(9);
  });

  it("writes the same events to Analytics Engine when ANALYTICS is bound", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const withDataset = Object.create(env, { ANALYTICS: { value: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } } }) as Bindings;
    const call = async (req: Request) => {
      const ctx = createExecutionContext();
      // Its waitUntil (the flush a few seconds later) is left to run: the scrape below flushes first.
      return worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, withDataset, ctx);
    };
    const { key, tenantId } = await tenantWithKey();
    const created = await call(
      new Request("https://proxy.test/api/v1/hailuo/text_to_video", {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: JSON.stringify(t2v("to analytics")),
      }),
    );
    expect(created.status).toBe(200);
    await scrape(call); // a scrape flushes this isolate's events
    expect(points).toContainEqual({ indexes: ["request"], blobs: ["request", "POST", CREATE_ROUTE, "200", tenantId], doubles: [1, expect.any(Number)] });
    expect(points).toContainEqual({ indexes: ["create"], blobs: ["create", "hailuo", MODEL, tenantId], doubles: [1] });
    expect(points).toContainEqual({ indexes: ["upstream"], blobs: ["upstream", "create", "ok"], doubles: [1, expect.any(Number)] });
  });

  it("needs an operator token", async () => {
    await expectError(await proxy("/admin/v1/metrics"), 401, "unauthorized");
  });
});

describe("the operation label of a RunAPI call, read from its URL's text", () => {
  it("takes the path without host, query or fragment", () => {
    expect(pathOf("https://runapi.ai/api/v1/kling/text_to_video")).toBe("/api/v1/kling/text_to_video");
    expect(pathOf("http://127.0.0.1:8788/api/v1/kling/text_to_video/abc?x=1#y")).toBe("/api/v1/kling/text_to_video/abc");
    expect(pathOf("https://runapi.ai")).toBe("/");
    expect(pathOf("https://runapi.ai/v1/models#top")).toBe("/v1/models");
  });
  it("names create, status, chat and downloads as before", () => {
    expect(upstreamOperation("POST", pathOf("https://runapi.ai/api/v1/kling/text_to_video?a=b"))).toBe("create");
    expect(upstreamOperation("GET", pathOf("https://runapi.ai/api/v1/kling/text_to_video/t1"))).toBe("status");
    expect(upstreamOperation("POST", pathOf("https://runapi.ai/v1/chat/completions"))).toBe("chat");
    expect(upstreamOperation("GET", pathOf("https://cdn.example/videos/v.mp4"))).toBe("download");
  });
});
