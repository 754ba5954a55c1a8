import { expect } from "vitest";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, json, runAlarm, sim, t2v, upstreamIdOf } from "../helpers";

/** SPEC §14 test bed: helpers that read RunAPI's capacity as the proxy and the simulator see it, and finish tasks as RunAPI would. */

/** The coordinator's view (`GET /admin/v1/capacity`). */
export async function capacity(): Promise<any> {
  const res = await admin("/admin/v1/capacity");
  expect(res.status).toBe(200);
  return json(res);
}

/** One tenant's row of the coordinator's view, or undefined when it holds nothing. */
export async function share(tenantId: string): Promise<any> {
  return (await capacity()).tenants.find((t: { tenant_id: string }) => t.tenant_id === tenantId);
}

/** The simulator's account limits and what it saw: tasks in flight, the peak, the 429s it answered. */
export async function simLimits(
  update?: Record<string, unknown>,
): Promise<{ max_concurrent: number; in_flight: number; peak_in_flight: number; refused: number }> {
  const res = update
    ? await sim("/__sim/limits", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(update) })
    : await sim("/__sim/limits");
  expect(res.status).toBe(200);
  return json(res);
}

/** A create of a 6 s Hailuo clip ($0.30), queued beyond the tenant's share when `queue`. */
export function create(key: string, prompt: string, queue = false, headers: Record<string, string> = {}) {
  return api(key, "/api/v1/hailuo/text_to_video", { body: t2v(prompt), headers: { ...(queue ? { Prefer: "respond-async, queue" } : {}), ...headers } });
}

/** The tenant's task ids with this status, every page. */
export async function tasksWith(key: string, status: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await json(await api(key, `/api/v1/tasks?status=${status}&limit=100${cursor ? `&cursor=${cursor}` : ""}`));
    ids.push(...page.tasks.map((t: { id: string }) => t.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

/** The tasks RunAPI has accepted for the tenant and not finished (they occupy the account's capacity). */
export async function inFlightAtRunApi(key: string): Promise<string[]> {
  const open = [...(await tasksWith(key, "pending")), ...(await tasksWith(key, "processing"))];
  const sent: string[] = [];
  for (const id of open) if (await upstreamIdOf(id)) sent.push(id);
  return sent;
}

/**
 * RunAPI finishes these tasks and calls back; resolves once the proxy reads each as completed. A test that moved the
 * tenant object's clock names the tenant (`tenantId`): its alarms, set on that clock, are run rather than waited for.
 */
export async function finish(key: string, taskIds: string[], tenantId?: string): Promise<void> {
  for (const id of taskIds) {
    const upstreamId = await advanceUpstream(id, { status: "completed" });
    await deliverCallbacks(upstreamId);
  }
  await eventually(async () => {
    if (tenantId) await runAlarm(tenantId);
    for (const id of taskIds) expect((await json(await api(key, `/api/v1/tasks/${id}`))).status).toBe("completed");
  }, 15_000);
}

/** Finishes every task of these tenants (queued ones start as slots free, then finish too), so the next test finds RunAPI idle. */
export async function drain(...tenants: (string | { key: string; tenantId: string })[]): Promise<void> {
  for (let round = 0; round < 100; round++) {
    let left = 0;
    for (const tenant of tenants) {
      const { key, tenantId } = typeof tenant === "string" ? { key: tenant, tenantId: undefined } : tenant;
      if (tenantId) await runAlarm(tenantId);
      const running = await inFlightAtRunApi(key);
      const waiting = [...(await tasksWith(key, "queued")), ...(await tasksWith(key, "pending")), ...(await tasksWith(key, "processing"))];
      left += waiting.length;
      if (running.length) await finish(key, running, tenantId);
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("tasks still unfinished after 100 rounds");
}
