import { newTaskRecord } from "../domain/task-record";
import { timeOrderedUuid } from "../lib/crypto";

/** What `npm run bench` asks of a tenant's object: seed stored history, run its alarm, count the rows it writes. */
export type BenchOp = { op: "seed"; tasks: number; tenantId: string; keyId: string } | { op: "alarms"; times: number } | { op: "countRows" } | { op: "rows" };

const DAY_MS = 86_400_000;
type Counted = { cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[]; completions: number[] };
const counters = new WeakMap<SqlStorage, Counted>();

/**
 * The bench's hooks into one tenant's object (the object refuses them unless the deployment sets BENCH_HOOKS=true, as
 * only `npm run bench` does). `seed` writes `tasks` finished video tasks spread over the last 30 days, each with its
 * settled reservation and its reserve and settle entries, straight into SQLite (all still hot: the worst case for a
 * tenant object whose cost must not grow with its history); `countRows` starts counting the rows every statement
 * writes, `rows` answers the count so far and the count at each statement that wrote a task's completion (its
 * settlement is in the same transaction).
 */
export async function benchHook(
  storage: DurableObjectStorage,
  op: BenchOp,
  alarm: () => Promise<void>,
  now: number,
): Promise<number | { total: number; completions: number[] }> {
  const sql = storage.sql;
  switch (op.op) {
    case "seed": {
      for (let start = 0; start < op.tasks; start += 10_000) {
        storage.transactionSync(() => {
          for (let i = start; i < Math.min(op.tasks, start + 10_000); i++) {
            const at = now - 30 * DAY_MS + Math.floor((i / op.tasks) * 30 * DAY_MS);
            const id = timeOrderedUuid(at);
            const task = newTaskRecord({
              id,
              tenantId: op.tenantId,
              keyId: op.keyId,
              endUser: null,
              request: {
                service: "hailuo",
                action: "text_to_video",
                model: "hailuo-02-text-to-video-standard",
                params: { prompt: `seeded ${i}`, duration_seconds: 6 },
              },
              route: { path: "/api/v1/hailuo/text_to_video", sendsModel: true },
              references: {},
              estimateMicros: 300_000,
              costMicros: 300_000,
              markupPercent: 0,
              priceSource: "published",
              callbackUrl: `https://proxy.invalid/webhooks/runapi/${id}/seed`,
              notifyUrl: null,
              now: at,
            });
            Object.assign(task, { status: "completed", submit: "accepted", upstream_id: crypto.randomUUID(), charge_micros: 300_000, updated_at: at + 60_000 });
            sql.exec(
              "INSERT INTO tasks (task_id, key_id, end_user, model, status, created_at, updated_at, record, next_due_at) VALUES (?, ?, NULL, ?, 'completed', ?, ?, ?, NULL)",
              id,
              op.keyId,
              task.model,
              at,
              at + 60_000,
              JSON.stringify(task),
            );
            sql.exec(
              `INSERT INTO reservations (task_id, kind, key_id, model, amount_micros, cost_micros, state, charged_micros, created_at, closed_at)
               VALUES (?, 'task', ?, ?, 300000, 300000, 'settled', 300000, ?, ?)`,
              id,
              op.keyId,
              task.model,
              at,
              at + 60_000,
            );
            for (const [type, when, reserved] of [
              ["reserve", at, 0],
              ["settle", at + 60_000, 300_000],
            ] as const) {
              sql.exec(
                `INSERT INTO entries (at, booked_at, type, task_id, key_id, model, amount_micros, reserved_micros, cost_micros)
                 VALUES (?, ?, ?, ?, ?, ?, 300000, ?, 300000)`,
                when,
                at,
                type,
                id,
                op.keyId,
                task.model,
                reserved,
              );
            }
          }
        });
      }
      // Buckets already kept were made before this history: made again from the entries when next asked.
      sql.exec("DELETE FROM buckets");
      sql.exec("DELETE FROM tracked");
      return op.tasks;
    }
    case "alarms":
      for (let i = 0; i < op.times; i++) await alarm();
      return op.times;
    case "countRows": {
      const counted: Counted = { cursors: [], completions: [] };
      counters.set(sql, counted);
      const exec = sql.exec.bind(sql);
      Object.defineProperty(sql, "exec", {
        configurable: true,
        value: (query: string, ...args: SqlStorageValue[]) => {
          const cursor = exec(query, ...args);
          counted.cursors.push(cursor);
          if (query.startsWith("UPDATE tasks") && args.includes("completed")) counted.completions.push(counted.cursors.length);
          return cursor;
        },
      });
      return 0;
    }
    case "rows": {
      const counted = counters.get(sql) ?? { cursors: [], completions: [] };
      const upTo = (n: number) => counted.cursors.slice(0, n).reduce((sum, c) => sum + c.rowsWritten, 0);
      return { total: upTo(counted.cursors.length), completions: counted.completions.map(upTo) };
    }
  }
}
