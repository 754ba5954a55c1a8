import { Hono } from "hono";
import { labelString, type Sample } from "../domain/prometheus";
import type { AppEnv, Bindings } from "../env";
import { capacityStub } from "../lib/stubs";

/** Gauges of RunAPI's capacity (SPEC §14, §15): the limits, what is in use, each tenant's lease, target and queue. */
export async function capacityGauges(env: Bindings): Promise<Sample[]> {
  const snap = await capacityStub(env).snapshot();
  const out: Sample[] = [];
  const gauge = (name: string, labels: Record<string, string>, value: number) => out.push({ name, labels: labelString(labels), value });
  if (snap.slots) {
    gauge("runapi_proxy_upstream_capacity", { resource: "tasks", limit: "max" }, snap.slots.max);
    gauge("runapi_proxy_upstream_capacity", { resource: "tasks", limit: "effective" }, snap.slots.effective);
    gauge("runapi_proxy_upstream_capacity_in_use", { resource: "tasks" }, snap.slots.in_flight);
  }
  if (snap.rate) {
    gauge("runapi_proxy_upstream_capacity", { resource: "creates_per_minute", limit: "max" }, snap.rate.max);
    gauge("runapi_proxy_upstream_capacity", { resource: "creates_per_minute", limit: "effective" }, snap.rate.effective);
    gauge("runapi_proxy_upstream_capacity_in_use", { resource: "creates_per_minute" }, snap.rate.used_last_minute);
  }
  for (const t of snap.tenants) {
    gauge("runapi_proxy_tenant_capacity_held", { tenant: t.tenant_id, kind: "held" }, t.held_slots);
    gauge("runapi_proxy_tenant_capacity_held", { tenant: t.tenant_id, kind: "target" }, t.target_slots);
    gauge("runapi_proxy_tenant_queued_tasks", { tenant: t.tenant_id }, t.queued);
  }
  return out;
}

/** `GET /admin/v1/capacity` (viewer and up): RunAPI's capacity now, and every tenant's want, lease, fair target and queue. */
export const adminCapacity = new Hono<AppEnv>().get("/capacity", async (c) => c.json(await capacityStub(c.env).snapshot()));
