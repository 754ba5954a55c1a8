import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ALERT_SQL } from "../src/durable-objects/alerts";
import { BUCKET_SQL, trackedOfSql } from "../src/durable-objects/bucket-store";
import { HISTORY_SQL } from "../src/durable-objects/history";
import { LEDGER_SQL } from "../src/durable-objects/ledger-store";
import { TASK_SQL } from "../src/durable-objects/task-store";

/** Every query the hot path (a create, a chat, a task read) and the alarm run, as the stores run them. */
const HOT: Record<string, string> = {
  ...prefixed("tasks", TASK_SQL),
  ...prefixed("ledger", LEDGER_SQL),
  ...prefixed("buckets", BUCKET_SQL),
  ...prefixed("alerts", ALERT_SQL),
  ...prefixed("history", HISTORY_SQL),
  "buckets.trackedOf": trackedOfSql(3),
};

function prefixed(prefix: string, queries: Record<string, string>): Record<string, string> {
  // An INSERT has no plan to read: it writes by its key.
  return Object.fromEntries(
    Object.entries(queries)
      .filter(([, sql]) => !sql.startsWith("INSERT"))
      .map(([name, sql]) => [`${prefix}.${name}`, sql]),
  );
}

/** EXPLAIN QUERY PLAN's lines for `sql` (parameters bound to 1), read inside a tenant's object. */
async function plans(queries: Record<string, string>): Promise<Record<string, string[]>> {
  const stub = env.LEDGER.get(env.LEDGER.idFromName(crypto.randomUUID()));
  return runInDurableObject(stub, (_, ctx) =>
    Object.fromEntries(
      Object.entries(queries).map(([name, sql]) => {
        const params = new Array<number>((sql.match(/\?/g) ?? []).length).fill(1);
        return [
          name,
          ctx.storage.sql
            .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params)
            .toArray()
            .map((r) => r.detail),
        ];
      }),
    ),
  );
}

/** Partial indexes that hold only what is open now (unfinished tasks' reservations), never history: reading them whole is bounded. */
const OPEN_ONLY = ["reservations_open_tasks"];

/** A plan line that reads a whole table or index (a scan, a search with no constraint, a sort): what a growing history would pay for. */
function unbounded(line: string): boolean {
  if (/^(CO-ROUTINE|SCAN \(subquery|SCAN [0-9]+-ROW VALUES|LIST SUBQUERY|CREATE BLOOM)/.test(line)) return false;
  if (OPEN_ONLY.some((index) => line.endsWith(`USING COVERING INDEX ${index}`))) return false;
  if (/^SCAN /.test(line) || /TEMP B-TREE/.test(line)) return true;
  return /^SEARCH /.test(line) && !/\(.+\)$/.test(line);
}

describe("the hot path and the alarm read through indexes (issue 20)", () => {
  it("every hot query's plan is an indexed search, never a scan of its table", async () => {
    const found = await plans(HOT);
    expect(Object.keys(found).length).toBeGreaterThanOrEqual(12);
    for (const [name, lines] of Object.entries(found)) {
      expect(lines.length, name).toBeGreaterThan(0);
      expect(lines.filter(unbounded), `${name}: ${lines.join(" | ")}`).toEqual([]);
    }
    // The alarm's next-due lookup reads the first entry of the partial index, not every task.
    expect(found["tasks.nextDue"]!.join(" ")).toMatch(/USING COVERING INDEX tasks_due/);
    expect(found["ledger.nextHoldDeadline"]!.join(" ")).toMatch(/USING COVERING INDEX reservations_holds/);
    expect(found["ledger.openTasks"]!.join(" ")).toMatch(/reservations_open_tasks/);
    expect(found["buckets.trackedOf"]!.join(" ")).toMatch(/SEARCH tracked USING PRIMARY KEY \(scope=\? AND subject=\?\)/);
  });

  it("the check catches a scan: the alarm's old next-due query and a hold query without its index's condition", async () => {
    const found = await plans({
      oldNextDue: "SELECT MIN(next_due_at) AS t FROM tasks",
      holdsAnyState: "SELECT MIN(hold_until) AS t FROM reservations WHERE kind = 'hold'",
      entriesByAt: "SELECT * FROM entries WHERE at >= ? ORDER BY at LIMIT 10",
    });
    for (const [name, lines] of Object.entries(found)) expect(lines.some(unbounded), `${name}: ${lines.join(" | ")}`).toBe(true);
  });
});
