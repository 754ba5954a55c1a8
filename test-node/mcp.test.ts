import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startProxy, type RunningProxy } from "./support/proxy";

// The MCP SDK's own client over Streamable HTTP against the proxy's /mcp, as Hermes' mcp_servers would use it.

let proxy: RunningProxy;
beforeAll(async () => {
  proxy = await startProxy({ simVars: { SIM_PROCESSING_AFTER_MS: "1200", SIM_COMPLETE_AFTER_MS: "2500" } });
});
afterAll(() => proxy?.dispose());

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: "proxy-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number; message?: string }) => void) =>
  (await client.callTool({ name, arguments: args }, undefined, onprogress ? { onprogress, timeout: 60_000 } : undefined)) as ToolResult;
const jsonOf = (r: ToolResult) => JSON.parse(r.content[0]!.text) as Record<string, any>;

describe("MCP server at /mcp", () => {
  test("lists RunAPI's Hailuo tools with prices and limits in their descriptions", async () => {
    const { key } = await proxy.tenantWithKey({ limits: { max_concurrent_tasks: 3, requests_per_minute: 20 } });
    const client = await connect(key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["check_pricing", "get_budget", "get_task", "image_to_video", "text_to_video"]);
    const t2v = tools.find((t) => t.name === "text_to_video")!;
    expect(t2v.description).toContain("hailuo-02-text-to-video-standard: $0.30–$0.50");
    expect(t2v.description).toContain("3 unfinished tasks at once, 20 requests per minute");
    expect(Object.keys((t2v.inputSchema as { properties: object }).properties)).toEqual(expect.arrayContaining(["model", "prompt", "duration_seconds"]));
    await client.close();
  });

  test("creates a task and waits for it with get_task, reporting progress", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = await connect(key);
    const created = await call(client, "text_to_video", { prompt: "a lighthouse in a storm", duration_seconds: 6 });
    expect(created.isError).toBeFalsy();
    const task = jsonOf(created);
    expect(task).toMatchObject({ status: "pending", model: "hailuo-02-text-to-video-standard", estimated_cost_usd: 0.3 });
    expect(created.content[0]!.text).toContain(task.id);

    const progress: { progress: number; message?: string }[] = [];
    const done = await call(client, "get_task", { task_id: task.id, wait_seconds: 30 }, (p) => progress.push(p));
    expect(jsonOf(done)).toMatchObject({ id: task.id, status: "completed", charged_usd: 0.3 });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.message).toContain(task.id);

    // The same budget as HTTP: the charge shows in get_budget.
    const budget = jsonOf(await call(client, "get_budget", {}));
    expect(budget.budgets.tenant).toMatchObject({ spent_usd: 0.3, reserved_usd: 0 });
    await client.close();
  });

  test("an invalid request is a tool error naming the field, and nothing is created", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = await connect(key);
    const bad = await call(client, "text_to_video", { model: "hailuo-02-text-to-video-pro", prompt: "x", duration_seconds: 10 });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toContain("invalid_request");
    expect(bad.content[0]!.text).toContain("duration_seconds");
    const noFrame = await call(client, "image_to_video", { prompt: "x", first_frame_image_url: "ftp://nope" });
    expect(noFrame.isError).toBe(true);
    expect(noFrame.content[0]!.text).toContain("first_frame_image_url");
    const wait = await call(client, "get_task", { task_id: crypto.randomUUID(), wait_seconds: 500 });
    expect(wait.isError).toBe(true);
    expect(wait.content[0]!.text).toContain("wait_seconds");
    const budget = jsonOf(await call(client, "get_budget", {}));
    expect(budget.budgets.tenant.reserved_usd).toBe(0);
    await client.close();
  });

  test("budgets and idempotency apply exactly as on HTTP", async () => {
    const { key } = await proxy.tenantWithKey({ budget: { limit_usd: 0.5, period: "day" } });
    const client = await connect(key);
    const first = await call(client, "text_to_video", { prompt: "budget one", duration_seconds: 6, idempotency_key: "mcp-idem-1" });
    const again = await call(client, "text_to_video", { prompt: "budget one", duration_seconds: 6, idempotency_key: "mcp-idem-1" });
    expect(jsonOf(again).id).toBe(jsonOf(first).id);
    const refused = await call(client, "text_to_video", { prompt: "budget two", duration_seconds: 6 });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toContain("budget_exceeded");
    const pricing = jsonOf(await call(client, "check_pricing", { model: "hailuo-02-text-to-video-standard", duration_seconds: 6 }));
    expect(pricing).toMatchObject({ estimated_cost_usd: 0.3, budget: { would_exceed: true } });
    await client.close();
  });

  test("refuses a caller without a tenant key", async () => {
    const res = await fetch(`${proxy.base}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    await expect(connect("sk_not_a_real_key_at_all_000000")).rejects.toThrow();
  });
});
