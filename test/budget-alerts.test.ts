import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { crossedThresholds } from "../src/domain/budget-alerts";
import { admin, advanceClock, api, eventually, expectError, json, nonce, t2v, tenantWithKey, webhookReceiver } from "./helpers";

const HOOK = "https://hooks.tenant.example/budget";

const receiver = (statuses?: number[]) => webhookReceiver(HOOK, statuses);
afterEach(() => vi.restoreAllMocks());

const create = (key: string) => api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });

describe("budget alerts", () => {
  it("sends one signed budget.threshold webhook per threshold and period as spend crosses 50, 80 and 100 %", async () => {
    const received = receiver();
    const { key, tenantId, webhookSecret } = await tenantWithKey({ budget: { limit_usd: 0.6, period: "day" }, webhook_url: HOOK });
    expect((await create(key)).status).toBe(200); // 0.30 of 0.60: 50 %
    await eventually(async () => expect(received).toHaveLength(1));
    expect((await create(key)).status).toBe(200); // 0.60: 80 % and 100 %
    await eventually(async () => expect(received).toHaveLength(3));
    await expectError(await create(key), 402, "budget_exceeded"); // refused: no alert
    await advanceClock(tenantId, 60_000);

    const verify = new Webhook(webhookSecret);
    const alerts = received.map((r) => verify.verify(r.body, r.headers) as any);
    expect(alerts.map((a) => a.threshold_percent).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    for (const a of alerts) {
      expect(a).toMatchObject({
        type: "budget.threshold",
        tenant_id: tenantId,
        scope: "tenant",
        subject: tenantId,
        period: "day",
        limit_usd: 0.6,
        resets_at: expect.any(String),
      });
      expect(a.spent_usd + a.reserved_usd).toBeGreaterThanOrEqual((a.threshold_percent / 100) * 0.6 - 1e-9);
    }
    expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(3);
    expect(received).toHaveLength(3);
  });

  it("uses the tenant's own thresholds, covers key budgets, and retries an alert its receiver refused", async () => {
    const received = receiver([503, 200]);
    const { key, tenantId } = await tenantWithKey(
      { budget: { limit_usd: 100, period: "month" }, webhook_url: HOOK, alert_thresholds_percent: [25] },
      { budget: { limit_usd: 1.2, period: "day" } },
    );
    expect((await create(key)).status).toBe(200); // key: 0.30 of 1.20 = 25 %
    await eventually(async () => expect(received).toHaveLength(1));
    expect(JSON.parse(received[0]!.body)).toMatchObject({ scope: "key", threshold_percent: 25, limit_usd: 1.2 });
    await advanceClock(tenantId, 6_000);
    expect(received).toHaveLength(2);
    expect(received[1]!.headers["webhook-id"]).toBe(received[0]!.headers["webhook-id"]);
    await advanceClock(tenantId, 3_600_000);
    expect(received).toHaveLength(2);
  });

  it("a tenant without a webhook gets none; thresholds are validated", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.3, period: "day" } });
    expect((await create(key)).status).toBe(200);
    for (const bad of [[0], [101], [50, 50], [1.5]]) {
      const res = await admin("/admin/v1/tenants", { body: { name: "x", budget: { limit_usd: 1, period: "day" }, alert_thresholds_percent: bad } });
      expect((await json(res)).error.details.issues[0].field).toMatch(/^alert_thresholds_percent/);
    }
  });

  it("crossing is exact in integers and happens once", () => {
    expect(crossedThresholds(600_000, 0, 300_000, [50, 80, 100])).toEqual([50]);
    expect(crossedThresholds(600_000, 300_000, 600_000, [100, 80, 50])).toEqual([80, 100]);
    expect(crossedThresholds(600_000, 600_000, 900_000, [50, 80, 100])).toEqual([]);
    expect(crossedThresholds(3, 1, 2, [66])).toEqual([66]); // 2/3 = 66.7 %
    expect(crossedThresholds(0, 0, 1, [50])).toEqual([]);
  });
});
