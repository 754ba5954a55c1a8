import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hailuoTaskInit } from "./fixtures";
import { migrate, SCHEMA_VERSION } from "../src/durable-objects/schema";
import { newTaskRecord } from "../src/domain/task-record";
import { periodWindow } from "../src/domain/periods";
import { PERIODS } from "../src/domain/tenant";

const NOW = Date.parse("2026-11-20T10:00:00Z");
const PRICE = 300_000;

describe("schema migration 7 (issue 20)", () => {
  it("a database of the old shape (every period's bucket, AUTOINCREMENT entries, rowid tables) upgrades in place, its figures unchanged", async () => {
    const stub = env.LEDGER.get(env.LEDGER.idFromName(crypto.randomUUID()));
    const settled = crypto.randomUUID();
    const open = crypto.randomUUID();
    await runInDurableObject(stub, (_, ctx) => {
      const sql = ctx.storage.sql;
      // Back to an empty database, then the schema as version 6 left it.
      for (const { name } of sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name != 'sqlite_sequence'")
        .toArray())
        sql.exec(`DROP TABLE ${name}`);
      migrate(ctx.storage, 6);
      expect(sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version).toBe(6);
      // What the old code wrote for one settled task and one open hold: a bucket for every period of the tenant and the key.
      const oldBuckets = (now: number) =>
        ["tenant|*", "key|key_a"].flatMap((s) => PERIODS.map((p) => [...s.split("|"), p, periodWindow(p, now).start] as const));
      const add = (now: number, spent: number, reserved: number) => {
        for (const [scope, subject, period, start] of oldBuckets(now))
          sql.exec(
            `INSERT INTO buckets VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros,
             reserved_micros = reserved_micros + excluded.reserved_micros`,
            scope,
            subject,
            period,
            start,
            spent,
            reserved,
          );
      };
      const entry = (at: number, type: string, taskId: string, amount: number, reserved: number) =>
        sql.exec(
          "INSERT INTO entries (at, type, task_id, key_id, end_user, model, amount_micros, reserved_micros, reason, booked_at, cost_micros) VALUES (?, ?, ?, 'key_a', NULL, 'm', ?, ?, NULL, ?, ?)",
          at,
          type,
          taskId,
          amount,
          reserved,
          type === "reserve" ? at : NOW - 60_000,
          amount,
        );
      const buckets = JSON.stringify(oldBuckets(NOW).map(([scope, subject, period, window_start]) => ({ scope, subject, period, window_start })));
      for (const [id, kind, state] of [
        [settled, "task", "settled"],
        [open, "hold", "open"],
      ] as const)
        sql.exec(
          "INSERT INTO reservations (task_id, key_id, end_user, model, amount_micros, buckets, state, charged_micros, created_at, closed_at, kind, hold_until, cost_micros) VALUES (?, 'key_a', NULL, 'm', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          id,
          PRICE,
          buckets,
          state,
          state === "settled" ? 250_000 : null,
          NOW - 60_000,
          state === "settled" ? NOW : null,
          kind,
          kind === "hold" ? NOW + 60_000 : null,
          PRICE,
        );
      entry(NOW - 60_000, "reserve", settled, PRICE, 0);
      entry(NOW, "settle", settled, 250_000, PRICE);
      entry(NOW - 60_000, "reserve", open, PRICE, 0);
      add(NOW - 60_000, 0, 2 * PRICE);
      add(NOW, 250_000, -PRICE);
      const task = newTaskRecord(
        hailuoTaskInit({ id: settled, tenantId: "t", keyId: "key_a", endUser: null, callbackUrl: "https://proxy.test/cb", now: NOW - 60_000 }),
      );
      task.status = "completed";
      sql.exec(
        "INSERT INTO tasks (task_id, key_id, model, status, created_at, updated_at, end_user, record, next_due_at) VALUES (?, 'key_a', ?, 'completed', ?, ?, NULL, ?, NULL)",
        settled,
        task.model,
        task.created_at,
        NOW,
        JSON.stringify(task),
      );
      // And up to now.
      migrate(ctx.storage);
      expect(sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version).toBe(SCHEMA_VERSION);
      const withoutRowid = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name IN ('tasks', 'reservations')").toArray();
      for (const t of withoutRowid) expect(t.sql).toMatch(/WITHOUT ROWID/);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM buckets").one().n).toBe(0); // made again from the entries when asked
    });

    const tenant = { scope: "tenant" as const, subject: "t", limit_micros: 10_000_000, period: "month" as const };
    const key = { scope: "key" as const, subject: "key_a", limit_micros: 10_000_000, period: "total" as const };
    expect(await stub.usage(NOW, [tenant, key])).toMatchObject([
      { spent_micros: 250_000, reserved_micros: PRICE },
      { spent_micros: 250_000, reserved_micros: PRICE },
    ]);
    const { entries } = await stub.entries({});
    expect(entries.map((e) => [e.id, e.type, e.booked_at])).toEqual([
      [1, "reserve", new Date(NOW - 60_000).toISOString()],
      [2, "settle", new Date(NOW - 60_000).toISOString()],
      [3, "reserve", new Date(NOW - 60_000).toISOString()],
    ]);
    expect(await stub.readTask(settled, { tenantId: "t" })).toMatchObject({ id: settled, status: "completed" });
    // The open hold closes into the buckets made from the entries; new entries go on after the old ids.
    expect(await stub.settle(open, 100_000, NOW + 1000)).toEqual({ settled: true, charged_micros: 100_000 });
    expect(await stub.usage(NOW, [tenant])).toMatchObject([{ spent_micros: 350_000, reserved_micros: 0 }]);
    expect((await stub.entries({ afterId: 3 })).entries).toMatchObject([{ id: 4, type: "settle", task_id: open }]);
    expect((await stub.totalsCheck()).mismatches).toEqual([]);
  });
});
