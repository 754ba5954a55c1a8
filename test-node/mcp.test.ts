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

describe("MCP server at /mcp: the Hailuo tools", () => {
  test("lists RunAPI's business and Hailuo tools, the Hailuo ones with prices and limits in their descriptions", async () => {
    const { key } = await proxy.tenantWithKey({ limits: { max_concurrent_tasks: 3, requests_per_minute: 20 } });
    const client = await connect(key);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "check_balance",
      "check_pricing",
      "create_task",
      "get_budget",
      "get_model_info",
      "get_task",
      "image_to_video",
      "list_actions",
      "list_models",
      "text_to_video",
    ]);
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

describe("MCP server at /mcp: RunAPI's business tools", () => {
  test("describe prices in the caller's terms and its limits; list_models and list_actions answer the catalog", async () => {
    const { key } = await proxy.tenantWithKey({ markup_percent: 100, limits: { max_concurrent_tasks: 4, requests_per_minute: 30 } });
    const client = await connect(key);
    const { tools } = await client.listTools();
    const create = tools.find((t) => t.name === "create_task")!;
    expect(create.description).toMatch(/image \$0\.\d\d–\$\d+\.\d\d/);
    expect(create.description).toContain("4 unfinished tasks at once, 30 requests per minute");
    expect(Object.keys((create.inputSchema as { properties: object }).properties).sort()).toEqual(
      ["action", "idempotency_key", "model", "params", "poll_interval_ms", "service", "timeout_ms", "wait"].sort(),
    );
    expect((create.inputSchema as { required?: string[] }).required?.sort()).toEqual(["action", "idempotency_key", "service"]);

    const images = jsonOf(await call(client, "list_models", { modality: "image" }));
    expect(images.count).toBe(images.models.length);
    expect(images.models.every((m: { modality: string }) => m.modality === "image")).toBe(true);
    // flux-dev is 7 ¢ at RunAPI; this tenant pays double.
    expect(images.models.find((m: { model: string; action: string }) => m.model === "flux-dev" && m.action === "text_to_image")).toMatchObject({
      service: "flux",
      model_line: expect.any(String),
      required_fields: ["prompt"],
      price: { min_cents: 14, max_cents: 14 },
    });
    const { groups } = jsonOf(await call(client, "list_actions", {}));
    expect(groups.find((g: { modality: string }) => g.modality === "video").actions).toEqual(expect.arrayContaining(["text_to_video", "image_to_video"]));
    await client.close();
  });

  test("get_model_info gives a Kling model's fields, its input rules and its price; an unknown model is a tool error", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = await connect(key);
    const info = jsonOf(await call(client, "get_model_info", { model: "kling-v3-turbo-image-to-video", service: "kling", action: "image_to_video" }));
    expect(info).toMatchObject({
      model: "kling-v3-turbo-image-to-video",
      service: "kling",
      action: "image_to_video",
      modality: "video",
      task_type: "asynchronous",
    });
    expect(info.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "first_frame_image_url", required: true }),
        expect.objectContaining({ name: "output_resolution", enum: ["720p", "1080p"] }),
      ]),
    );
    expect(info.input_rules).toEqual([{ when: { model: "kling-v3-turbo-image-to-video" }, forbidden: expect.arrayContaining(["enable_sound", "cfg_scale"]) }]);
    expect(info.price).toMatchObject({
      min_cents: expect.any(Number),
      price_schedule: { service: "kling", action: "image_to_video", model: "kling-v3-turbo-image-to-video" },
    });

    const several = jsonOf(await call(client, "get_model_info", { model: "kling-v2.6" }));
    expect(several.ambiguous).toBe(true);
    expect(several.matches.map((m: { action: string }) => m.action).sort()).toEqual(["image_to_video", "motion_control", "text_to_video"]);

    const unknown = await call(client, "get_model_info", { model: "kling-v9-imaginary" });
    expect(unknown.isError).toBe(true);
    expect(jsonOf(unknown).error).toBe("Unknown RunAPI model: kling-v9-imaginary");
    await client.close();
  });

  test("check_pricing with RunAPI's arguments prices a matrix model: its range, its schedule entry and an exact quote", async () => {
    const { key } = await proxy.tenantWithKey({ markup_percent: 50 });
    const client = await connect(key);
    // kling-v2.6: mode × enable_sound, 12 ¢ to 40 ¢ at RunAPI; this tenant pays 1.5×.
    const range = jsonOf(await call(client, "check_pricing", { service: "kling", action: "text_to_video", model: "kling-v2.6" }));
    expect(range).toMatchObject({
      supported: true,
      model: "kling-v2.6",
      price: {
        min_cents: 18,
        max_cents: 60,
        varies_with: ["mode", "enable_sound"],
        price_schedule: { billing_config: { keys: ["mode", "enable_sound"], matrix: { std: { false: 18 }, pro: { false: 30, true: 60 } } } },
      },
    });
    const exact = jsonOf(
      await call(client, "check_pricing", { service: "kling", action: "text_to_video", model: "kling-v2.6", params: { mode: "pro", enable_sound: false } }),
    );
    expect(exact.quote).toMatchObject({ reservation_amount_cents: 30 });
    const byModel = jsonOf(await call(client, "check_pricing", { model: "flux-dev" }));
    expect(byModel).toMatchObject({ supported: true, model: "flux-dev", ambiguous: true, price: { min_cents: 10.5 } });
    expect(byModel.matches.map((m: { action: string }) => m.action).sort()).toEqual(["remix_image", "text_to_image"]);
    const unsupported = jsonOf(await call(client, "check_pricing", { service: "kling", action: "text_to_music" }));
    expect(unsupported).toMatchObject({ supported: false });
    await client.close();
  });

  test("create_task runs a Flux image to completion with wait, then get_task (RunAPI's arguments) and check_balance see it", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = await connect(key);
    const progress: { progress: number; message?: string }[] = [];
    const args = {
      service: "flux",
      action: "text_to_image",
      model: "flux-dev",
      params: { prompt: "a red bicycle leaning on a wall" },
      idempotency_key: `mcp-${crypto.randomUUID()}`,
      wait: true,
      poll_interval_ms: 300,
    };
    const done = await call(client, "create_task", args, (p) => progress.push(p));
    expect(done.isError).toBeFalsy();
    const result = jsonOf(done);
    expect(result).toMatchObject({ status: "completed", completed: true, result: { status: "completed", model: "flux-dev", charged_usd: 0.07 } });
    expect(result.result.images.length).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.message).toContain(result.task_id);

    const read = jsonOf(await call(client, "get_task", { service: "flux", action: "text_to_image", task_id: result.task_id }));
    expect(read).toMatchObject({ task_id: result.task_id, status: "completed", task: { id: result.task_id, images: result.result.images } });
    const wrongService = await call(client, "get_task", { service: "kling", task_id: result.task_id });
    expect(wrongService.isError).toBe(true);

    // The same key and params replay the task: no second charge.
    const replay = jsonOf(await call(client, "create_task", { ...args, wait: false }));
    expect(replay.task_id).toBe(result.task_id);
    expect(jsonOf(await call(client, "check_balance", {}))).toMatchObject({ spent_cents_today: 7, reserved_cents: 0 });
    await client.close();
  });

  test("create_task answers a synchronous action at once; an invalid one is a tool error naming the field and reserves nothing", async () => {
    const { key } = await proxy.tenantWithKey();
    const client = await connect(key);
    const spoken = await call(client, "create_task", {
      service: "openai-tts",
      action: "text_to_speech",
      model: "tts-1",
      params: { text: "hello there" },
      idempotency_key: `sync-${crypto.randomUUID()}`,
    });
    expect(spoken.isError).toBeFalsy();
    expect(jsonOf(spoken).result).toBeTypeOf("object");

    const bad = await call(client, "create_task", {
      service: "flux",
      action: "text_to_image",
      model: "flux-dev",
      params: { prompt: "a cat", aspect_ratio: "7:3" },
      idempotency_key: `bad-${crypto.randomUUID()}`,
    });
    expect(bad.isError).toBe(true);
    const error = jsonOf(bad);
    expect(error.error).toContain("invalid_request");
    expect(error.issues.map((i: { field: string }) => i.field)).toEqual(["aspect_ratio"]);
    const unknown = await call(client, "create_task", { service: "flux", action: "make_coffee", params: {}, idempotency_key: "k-1" });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toContain("make_coffee");
    expect(jsonOf(await call(client, "check_balance", {}))).toMatchObject({ spent_cents_today: 4, reserved_cents: 0 });
    await client.close();
  });
});
