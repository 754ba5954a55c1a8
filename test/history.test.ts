import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ScopeBudget } from "../src/durable-objects/tenant";
import { DAY_MS } from "../src/domain/periods";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, getTask, json, ledgerObject, nonce, recorded, t2v, tenantWithKey } from "./helpers";

/** Every page of the operator's ledger export, as the bytes it answers. */
async function exportAll(tenantId: string, format: "json" | "csv", extra = ""): Promise<string[]> {
  const pages: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await admin(`/admin/v1/tenants/${tenantId}/ledger?format=${format}&limit=3${extra}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    pages.push(text);
    cursor = format === "json" ? (JSON.parse(text) as { next_cursor: string | null }).next_cursor : res.headers.get("X-Next-Cursor");
  } while (cursor);
  return pages;
}

/** What the hot tables of the tenant's object hold. */
function hotRows(tenantId: string) {
  return runInDurableObject(ledgerObject(tenantId), (_, ctx) => {
    const n = (table: string) => ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    return { entries: n("entries"), tasks: n("tasks"), reservations: n("reservations"), idempotency: n("idempotency"), archivedTasks: n("archived_tasks") };
  });
}

describe("history that leaves (issue 20)", () => {
  it("entries and finished tasks older than LEDGER_HOT_DAYS move to R2; exports, budgets and task reads are byte-identical", async () => {
    const { key, keyId, tenantId } = await tenantWithKey({ budget: { limit_usd: 100, period: "month" } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()), headers: i === 0 ? { "Idempotency-Key": nonce() } : {} });
      ids.push((await json(res)).id);
    }
    for (const id of ids.slice(0, 3)) {
      await recorded(tenantId, id);
      await deliverCallbacks(await advanceUpstream(id, { status: id === ids[1] ? "failed" : "completed", cost_cents: 12.5 }));
    }
    expect((await api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } })).status).toBe(200);
    expect((await admin(`/admin/v1/tenants/${tenantId}/adjustments`, { body: { amount_usd: 0.05, reason: "goodwill" } })).status).toBe(201);
    for (const id of ids.slice(0, 3)) await eventually(async () => expect(["completed", "failed"]).toContain((await getTask(key, id)).status));
    await submitRefused(tenantId, ids[3]!); // the last one ends too: a task with no work left moves

    // 40 days later (the object's clock): what an operator and the tenant read.
    const stub = ledgerObject(tenantId);
    await runInDurableObject(stub, (instance) => {
      const real = instance.clock;
      instance.clock = () => real() + 40 * DAY_MS;
    });
    const later = Date.now() + 40 * DAY_MS;
    const budgets: ScopeBudget[] = [
      { scope: "tenant", subject: tenantId, limit_micros: 100_000_000, period: "total" },
      { scope: "tenant", subject: tenantId, limit_micros: 100_000_000, period: "month" },
      { scope: "key", subject: keyId, limit_micros: 5_000_000, period: "total" },
    ];
    const read = async () => ({
      json: await exportAll(tenantId, "json"),
      csv: await exportAll(tenantId, "csv"),
      byBooked: await exportAll(tenantId, "json", `&by=booked_at&from=${new Date(Date.now() - DAY_MS).toISOString()}`),
      usage: JSON.stringify(await stub.usage(later, budgets)),
      margins: JSON.stringify(await stub.margins(0, later)),
      tasks: JSON.stringify(await Promise.all(ids.map((id) => getTask(key, id)))),
    });
    const before = await read();
    expect(JSON.parse(before.usage)[0].spent_micros).toBeGreaterThan(125_000 + 125_000 - 50_000); // two tasks, a chat, a credit

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const hot = await hotRows(tenantId);
    expect(hot).toMatchObject({ tasks: 0, archivedTasks: 4, entries: 1, idempotency: 0 }); // the newest entry stays: ids are never reused
    const after = await read();
    expect(after).toEqual(before);
    expect(after.json.join("").length).toBeGreaterThan(1000);

    // A budget first asked for after its entries left is made from what they added up to.
    const exported = before.json.flatMap((p) => (JSON.parse(p) as { entries: { type: string; key_id: string; amount_micros: number }[] }).entries);
    const keySpent = exported.filter((e) => e.type === "settle" && e.key_id === keyId).reduce((n, e) => n + e.amount_micros, 0);
    const [keyMonth] = await stub.usage(later, [{ scope: "key", subject: keyId, limit_micros: 1, period: "day" }]);
    expect(keyMonth).toMatchObject({ spent_micros: 0, reserved_micros: 0 });
    const [keyTotal] = await stub.usage(later, [{ scope: "key", subject: `${keyId}`, limit_micros: 10_000_000, period: "total" }]);
    expect(keyTotal!.spent_micros).toBe(keySpent);
    const fresh = await runInDurableObject(stub, (_, ctx) => ctx.storage.sql.exec("DELETE FROM tracked WHERE scope = 'key'").rowsWritten);
    expect(fresh).toBeGreaterThan(0);
    await runInDurableObject(stub, (_, ctx) => ctx.storage.sql.exec("DELETE FROM buckets WHERE scope = 'key'"));
    expect((await stub.usage(later, [{ scope: "key", subject: keyId, limit_micros: 10_000_000, period: "total" }]))[0]!.spent_micros).toBe(keySpent);

    // New work after the move: ids go on, the ledger still adds up.
    expect((await api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "again" }] } })).status).toBe(200);
    const all = (await exportAll(tenantId, "json")).flatMap((p) => (JSON.parse(p) as { entries: { id: number }[] }).entries.map((e) => e.id));
    expect(all).toEqual([...new Set(all)].sort((a, b) => a - b));
    expect(all.length).toBe(exported.length + 2);
    expect((await stub.totalsCheck()).mismatches).toEqual([]);
  });

  it("nothing inside the hot window or a current budget window moves", async () => {
    const { key, tenantId } = await tenantWithKey();
    const res = await api(key, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } });
    expect(res.status).toBe(200);
    await eventually(async () => expect((await hotRows(tenantId)).entries).toBe(2));
    await runInDurableObject(ledgerObject(tenantId), (instance) => {
      const real = instance.clock;
      instance.clock = () => real() + 20 * DAY_MS;
    });
    await runInDurableObject(ledgerObject(tenantId), (instance) => instance.alarm());
    expect(await hotRows(tenantId)).toMatchObject({ entries: 2, archivedTasks: 0 });
    const listed = await env.HISTORY.list({ prefix: `ledger/${ledgerObject(tenantId).id.toString()}/` });
    expect(listed.objects).toEqual([]);
  });
});

async function submitRefused(tenantId: string, taskId: string): Promise<void> {
  await recorded(tenantId, taskId);
  await deliverCallbacks(await advanceUpstream(taskId, { status: "failed" }));
  await eventually(async () => {
    const done = await runInDurableObject(
      ledgerObject(tenantId),
      (_, ctx) => ctx.storage.sql.exec<{ status: string }>("SELECT status FROM tasks WHERE task_id = ?", taskId).one().status,
    );
    expect(done).toBe("failed");
  });
}
