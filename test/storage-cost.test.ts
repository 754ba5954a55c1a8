import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceUpstream, api, deliverCallbacks, eventually, getTask, json, ledgerObject, nonce, recorded, t2v, tenantWithKey } from "./helpers";

type Counted = { query: string; completes: boolean; lease: boolean; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> };

/** Starts counting the SQLite rows the tenant's object writes (every statement's `rowsWritten`); the answer reads them. */
async function countRows(tenantId: string) {
  const seen: Counted[] = [];
  await runInDurableObject(ledgerObject(tenantId), (_, ctx) => {
    const sql = ctx.storage.sql;
    const exec = sql.exec.bind(sql);
    Object.defineProperty(sql, "exec", {
      configurable: true,
      value: (query: string, ...args: SqlStorageValue[]) => {
        const cursor = exec(query, ...args);
        seen.push({
          query: query.replace(/\s+/g, " ").slice(0, 60),
          completes: query.startsWith("UPDATE tasks") && args.includes("completed"),
          // The tenant's lease on RunAPI's capacity is saved when it reports to the coordinator (SPEC §14): per report,
          // shared by all its tasks, whenever one falls due; not a row of this task's.
          lease: query.includes("capacity_lease"),
          cursor,
        });
        return cursor;
      },
    });
  });
  return {
    /** Rows written through the statement that wrote the task's completion (its settlement is in the same transaction), and in all. */
    read: () =>
      runInDurableObject(ledgerObject(tenantId), () => {
        const end = seen.findIndex((s) => s.completes);
        const sum = (list: Counted[]) => list.reduce((n, s) => n + (s.lease ? 0 : s.cursor.rowsWritten), 0);
        return { toSettle: end === -1 ? null : sum(seen.slice(0, end + 1)), all: sum(seen), statements: seen.map((s) => `${s.cursor.rowsWritten} ${s.query}`) };
      }),
  };
}

/** A video task from its create to its completion, through the API and RunAPI's callback. */
async function videoTask(key: string, tenantId: string): Promise<string> {
  const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
  expect(res.status).toBe(200);
  const id = (await json(res)).id as string;
  await recorded(tenantId, id);
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
  await eventually(async () => expect((await getTask(key, id)).status).toBe("completed"));
  return id;
}

describe("storage cost (issue 20)", () => {
  it("a video task writes at most 20 SQLite rows from its create to its settlement", async () => {
    const { key, tenantId } = await tenantWithKey();
    await videoTask(key, tenantId); // the tenant's first request starts tracking its budget: a one-time cost
    const rows = await countRows(tenantId);
    await videoTask(key, tenantId);
    const counted = await rows.read();
    expect(counted.toSettle, counted.statements.join("\n")).not.toBeNull();
    expect(counted.toSettle, counted.statements.join("\n")).toBeLessThanOrEqual(20);
    console.log(counted.toSettle, counted.all, counted.statements);
  });
});
