import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { admin, eventually, json, nonce, tenantWithKey } from "../helpers";
import { create, drain } from "./drive";

// RunAPI allows 12 tasks in flight, and the proxy knows it (project "capacity").
const UNLIMITED = { limits: { max_concurrent_tasks: null, requests_per_minute: null } };

type Family = { name: string; metrics: { labels?: Record<string, string>; value?: string }[] };

/** Scrapes `/admin/v1/metrics` (every line must parse) and reads one gauge; undefined when the series is absent. */
async function gauge(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const res = await admin("/admin/v1/metrics");
  expect(res.status).toBe(200);
  const families = parsePrometheusTextFormat(await res.text()) as Family[];
  const want = JSON.stringify(Object.entries(labels).sort());
  const m = families.find((f) => f.name === name)?.metrics.find((x) => JSON.stringify(Object.entries(x.labels ?? {}).sort()) === want);
  return m ? Number(m.value) : undefined;
}

describe("metrics of RunAPI's capacity (SPEC §15)", () => {
  it("export the limit, the capacity in use and each tenant's queue depth", async () => {
    const busy = await tenantWithKey(UNLIMITED);
    for (let i = 0; i < 12; i++) expect((await create(busy.key, nonce())).status).toBe(200);
    const waiting = await tenantWithKey(UNLIMITED);
    for (let i = 0; i < 2; i++) expect((await json(await create(waiting.key, nonce(), true))).status).toBe("queued");

    expect(await gauge("runapi_proxy_upstream_capacity", { resource: "tasks", limit: "max" })).toBe(12);
    await eventually(async () => {
      expect(await gauge("runapi_proxy_upstream_capacity_in_use", { resource: "tasks" })).toBe(12);
      expect(await gauge("runapi_proxy_tenant_queued_tasks", { tenant: waiting.tenantId })).toBe(2);
    });

    await drain(busy.key, waiting.key);
    await eventually(async () => expect((await gauge("runapi_proxy_tenant_queued_tasks", { tenant: waiting.tenantId })) ?? 0).toBe(0));
  });
});
