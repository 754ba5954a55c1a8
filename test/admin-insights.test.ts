import { describe, expect, it } from "vitest";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, expectError, getTask, json, proxy, t2v, tenantWithKey } from "./helpers";

const today = () => new Date().toISOString().slice(0, 10);

describe("GET /admin/v1/tenants/{id}/spend", () => {
  it("sums each UTC day from the ledger: charges settled, adjustments, reservations and tasks", async () => {
    const { tenantId, key } = await tenantWithKey();
    const created = await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("a spend chart") }));
    await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("a second, still running") });
    await deliverCallbacks(await advanceUpstream(created.id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, created.id)).charged_usd).toBe(0.3));
    await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: -1.25, reason: "manual charge" } });
    await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 0.25, reason: "goodwill" } });

    const res = await admin(`/admin/v1/tenants/${tenantId}/spend?days=7`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.days).toHaveLength(7);
    expect(body.days.map((d: { date: string }) => d.date)).toEqual([...body.days.map((d: { date: string }) => d.date)].sort());
    expect(body.days.at(-1)).toEqual({ date: today(), charged_usd: 0.3, adjusted_usd: 1, reserved_usd: 0.6, tasks: 2 });
    expect(body.days.slice(0, 6).every((d: { charged_usd: number; tasks: number }) => d.charged_usd === 0 && d.tasks === 0)).toBe(true);
  });

  it("defaults to 30 days and refuses bad input, unknown tenants and missing tokens", async () => {
    const { tenantId } = await tenantWithKey();
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}/spend`))).days).toHaveLength(30);
    await expectError(await admin(`/admin/v1/tenants/${tenantId}/spend?days=0`), 400, "invalid_request");
    await expectError(await admin(`/admin/v1/tenants/${tenantId}/spend?days=many`), 400, "invalid_request");
    await expectError(await admin("/admin/v1/tenants/no-such-tenant-x/spend"), 404, "not_found");
    await expectError(await proxy(`/admin/v1/tenants/${tenantId}/spend`), 401, "unauthorized");
  });
});

describe("GET /admin/v1/tenants/{id}/tasks", () => {
  it("lists the tenant's newest tasks across keys, paged", async () => {
    const { tenantId, key } = await tenantWithKey();
    const ids: string[] = [];
    for (const prompt of ["one", "two", "three"]) ids.push((await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt) }))).id);
    const first = await json(await admin(`/admin/v1/tenants/${tenantId}/tasks?limit=2`));
    expect(first.tasks).toHaveLength(2);
    expect(first.tasks[0]).toMatchObject({ status: "pending", model: "hailuo-02-text-to-video-standard" });
    const second = await json(await admin(`/admin/v1/tenants/${tenantId}/tasks?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`));
    expect([...first.tasks, ...second.tasks].map((t: { id: string }) => t.id).sort()).toEqual([...ids].sort());
    expect(second.next_cursor).toBeNull();
    await expectError(await admin(`/admin/v1/tenants/${tenantId}/tasks?cursor=nope`), 400, "invalid_request");
  });
});

describe("GET /admin", () => {
  it("serves the dashboard page with no data in it and a strict policy", async () => {
    const res = await proxy("/admin");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("Admin token");
    expect(html).toContain("sessionStorage");
    expect(html).not.toContain("localStorage");
  });
});
