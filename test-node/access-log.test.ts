import { afterAll, beforeAll, expect, test } from "vitest";
// @ts-expect-error: plain ESM, shared with `npm start`
import { createLogPrinter } from "../scripts/log-format.mjs";
import { type RunningProxy, startProxy, UPSTREAM_KEY } from "./support/proxy";

type Line = { level: string; event: string; request_id: string; method: string; route: string; status: number; duration_ms: number; [k: string]: unknown };

let proxy: RunningProxy;
beforeAll(async () => {
  proxy = await startProxy();
});
afterAll(() => proxy?.dispose());

/** The access-log lines the proxy wrote. */
function requestLines(): Line[] {
  return proxy.logs
    .flatMap((l) => l.message.split("\n"))
    .flatMap((m) => {
      try {
        const entry = JSON.parse(m);
        return entry?.event === "request" ? [entry as Line] : [];
      } catch {
        return [];
      }
    });
}

async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test("one JSON line per request: id, route, status, duration, tenant, estimate; never a secret; an undeliverable webhook is one line", async () => {
  const created = await proxy.admin("POST", "/admin/v1/tenants", {
    id: "acme",
    name: "Acme",
    budget: { limit_usd: 5, period: "month" },
    webhook_url: "https://acme.example/hooks/video",
  });
  const webhookSecret = created.json.tenant.webhook_secret as string;
  const key = (await proxy.admin("POST", "/admin/v1/tenants/acme/keys", { kind: "secret" })).json.key as string;

  const createRes = await fetch(`${proxy.base}/api/v1/hailuo/text_to_video`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", "X-Request-Id": "req-log-create-0001" },
    body: JSON.stringify({ model: "hailuo-02-text-to-video-standard", prompt: "a lighthouse in a storm", duration_seconds: 6 }),
  });
  expect(createRes.status).toBe(200);
  const { id } = (await createRes.json()) as { id: string };
  const bad = await fetch(`${proxy.base}/api/v1/me`, {
    headers: { Authorization: "Bearer sk_not_a_real_key_but_long_enough_123", "X-Request-Id": "req-log-badkey-0001" },
  });
  expect(bad.status).toBe(401);

  // The simulator calls back; the task settles; the tenant webhook (acme.example never resolves) fails.
  await eventually(async () => {
    const task = (await (await fetch(`${proxy.base}/api/v1/tasks/${id}`, { headers: { Authorization: `Bearer ${key}` } })).json()) as {
      webhook_deliveries?: unknown[];
    };
    expect(task.webhook_deliveries?.length ?? 0).toBeGreaterThan(0);
  });

  const lines = requestLines();
  const create = lines.find((l) => l.request_id === "req-log-create-0001");
  expect(create).toMatchObject({
    level: "info",
    method: "POST",
    route: "/api/v1/hailuo/text_to_video",
    status: 200,
    tenant_id: "acme",
    estimate_usd: 0.3,
  });
  expect(create!.key_id).toMatch(/^key_/);
  expect(create!.duration_ms).toBeGreaterThanOrEqual(0);
  expect(lines.find((l) => l.request_id === "req-log-badkey-0001")).toMatchObject({
    level: "warn",
    route: "/api/v1/me",
    status: 401,
    error_code: "unauthorized",
  });
  const callback = lines.find((l) => l.route === "/webhooks/runapi/:taskId/:token");
  expect(callback).toMatchObject({ method: "POST", status: 200 });
  expect(lines.filter((l) => l.request_id === "req-log-create-0001")).toHaveLength(1);

  const all = proxy.logs.map((l) => l.message).join("\n");
  for (const secret of [key, proxy.adminToken, UPSTREAM_KEY, webhookSecret, "node-test-signing-secret-0a9b", "sk_not_a_real_key_but_long_enough_123"])
    expect(all).not.toContain(secret);
  expect(all).not.toMatch(new RegExp(`/webhooks/runapi/${id}/`)); // the callback token stays out of logs

  // What `npm start` prints: one short line per request, and the failed delivery as one line, no native stack.
  const printed: string[] = [];
  const print = createLogPrinter((line: string) => printed.push(line));
  for (const entry of proxy.logs) print(entry);
  expect(printed.find((l) => l.includes("req-log-crea"))).toMatch(
    /^\d\d:\d\d:\d\d POST\s+\/api\/v1\/hailuo\/text_to_video 200 \d+ ms tenant=acme est=\$0\.30 req-log-crea$/,
  );
  const dns = printed.filter((l) => l.includes("acme.example"));
  expect(dns).toHaveLength(1);
  expect(dns[0]).toMatch(/warn webhook_undeliverable .*host=acme\.example .*cause=DNS lookup failed/);
  expect(printed.join("\n")).not.toMatch(/stack:|\.c\+\+:/);
});
