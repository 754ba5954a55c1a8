import { describe, expect, it } from "vitest";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, getTask, json, t2v, tenantBudget, tenantWithKey } from "./helpers";

describe("an operator's credit larger than the spend", () => {
  it("never shows negative spend: spent reads 0 and the rest of the credit is extra room", async () => {
    const { tenantId, key } = await tenantWithKey({ budget: { limit_usd: 1, period: "day" } });
    const { id } = await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v("spend a little") }));
    await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
    await eventually(async () => expect((await getTask(key, id)).charged_usd).toBe(0.3));
    expect((await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 1.26, reason: "refund and goodwill" } })).status).toBe(201);

    const balance = await json(await api(key, "/api/v1/me/balance"));
    expect(balance.spent_cents_today).toBe(0);
    expect(balance.spent_cents_total).toBe(0);
    expect(balance.balance_cents).toBe(196); // $1 limit + the $0.96 of credit beyond the spend
    expect(await tenantBudget(key)).toMatchObject({ limit_usd: 1, spent_usd: 0, reserved_usd: 0, remaining_usd: 1.96 });
    const usage = await json(await admin(`/admin/v1/tenants/${tenantId}/usage`));
    expect(usage.budgets[0]).toMatchObject({ spent_usd: 0, remaining_usd: 1.96 });
  });
});
