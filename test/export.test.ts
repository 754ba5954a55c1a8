import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, api, json, ledgerObject, nonce, t2v, tenantWithKey } from "./helpers";

describe("ledger export", () => {
  it("pages through every entry with a cursor, in JSON and CSV", async () => {
    const { key, tenantId } = await tenantWithKey();
    for (let i = 0; i < 5; i++) await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
    for (let i = 0; i < 20; i++) await ledgerObject(tenantId).adjust(-1, `fee ${i}`, Date.now());
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await json(await admin(`/admin/v1/tenants/${tenantId}/ledger?limit=10${cursor ? `&cursor=${cursor}` : ""}`));
      seen.push(...page.entries.map((e: { id: number }) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const csv = await admin(`/admin/v1/tenants/${tenantId}/ledger?format=csv&limit=10`);
    expect(csv.headers.get("X-Next-Cursor")).toBe(String(seen[9]));
    expect((await csv.text()).trim().split("\r\n")).toHaveLength(11);
  });

  it("a month's export by budget window reconciles with that month's usage across the boundary", async () => {
    const stub = env.LEDGER.get(env.LEDGER.idFromName(crypto.randomUUID()));
    const budget = { scope: "tenant" as const, subject: "t", limit_micros: 10_000_000, period: "month" as const };
    const reservedAt = Date.parse("2026-10-31T23:59:30Z");
    const settledAt = Date.parse("2026-11-01T00:00:30Z");
    const taskId = crypto.randomUUID();
    const reserve = {
      taskId,
      keyId: "k",
      endUser: null,
      model: "hailuo-02-text-to-video-standard",
      amountMicros: 300_000,
      now: reservedAt,
      budgets: [budget],
      maxConcurrentTasks: null,
      requestsPerMinute: null,
      idempotency: null,
    };
    expect((await stub.reserve(reserve)).ok).toBe(true);
    await stub.settle(taskId, 300_000, settledAt);

    const settled = async (from: string, to: string) =>
      (await stub.entries({ from: Date.parse(from), to: Date.parse(to), by: "booked_at" })).entries
        .filter((e) => e.type === "settle")
        .reduce((n, e) => n + e.amount_micros, 0);
    const [october] = await stub.usage(reservedAt, [budget]);
    const [november] = await stub.usage(settledAt, [budget]);
    expect(await settled("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")).toBe(october!.spent_micros);
    expect(await settled("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")).toBe(november!.spent_micros);
    expect(october!.spent_micros).toBe(300_000);
    const [entry] = (await stub.entries({ by: "at", from: settledAt })).entries;
    expect(entry).toMatchObject({ type: "settle", at: "2026-11-01T00:00:30.000Z", booked_at: "2026-10-31T23:59:30.000Z" });
  });
});

describe("ledger export is safe to open in a spreadsheet", () => {
  it("text cells that a spreadsheet would run as a formula get a leading '; numbers stay numbers", async () => {
    const { tenantId, key } = await tenantWithKey();
    const token = (await json(await api(key, "/api/v1/end_user_tokens", { body: { sub: '=HYPERLINK("https://evil.example","x")' } }))).token as string;
    expect((await api(token, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) })).status).toBe(200);
    for (const reason of ["@SUM(A1:A9)", "+1+2", "-3", "=1+1", "plain reason"]) {
      expect((await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: -0.01, reason } })).status).toBe(201);
    }
    const csv = await (await admin(`/admin/v1/tenants/${tenantId}/ledger?format=csv`)).text();
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("id,at,booked_at,type,task_id,key_id,end_user,model,amount_usd,reserved_usd,reason");
    expect(csv).toContain(`"'=HYPERLINK(""https://evil.example"",""x"")"`);
    expect(csv).toContain("hailuo-02-text-to-video-standard");
    for (const reason of ["'@SUM(A1:A9)", "'+1+2", "'-3", "'=1+1", "plain reason"]) expect(csv).toContain(reason);
    const adjustments = lines.filter((l) => l.includes(",adjust,"));
    for (const line of adjustments) expect(line).toMatch(/,-?0\.010000,0\.000000,/); // debits stay numbers, unquoted
    for (const line of lines.slice(1)) expect(line.split(",").some((cell) => /^[=+@\t]/.test(cell))).toBe(false);
  });
});
