import { describe, expect, it } from "vitest";
import { UPSTREAM_KEY, api, i2v, json, nonce, proxy, simRequests, t2v, tenantWithKey, upstreamIdOf } from "./helpers";

describe("create and status, drop-in", () => {
  it("creates a text-to-video task: proxy id, estimate, budget headers", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ status: "pending", model: "hailuo-02-text-to-video-standard", estimated_cost_usd: 0.3 });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.task_id).toBe(body.id);
    expect(res.headers.get("X-Estimated-Cost-Usd")).toBe("0.300000");
    expect(res.headers.get("X-Budget-Remaining-Usd")).toBe("99.700000");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("forwards the normalised body with the upstream key, never the tenant key", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await api(key, "/api/v1/hailuo/image_to_video", {
      body: { model: "hailuo-02-image-to-video-standard", prompt: marker, image_url: "https://img.test/a.png", duration: "6", resolution: "512P" },
      headers: { "x-api-key": key, Cookie: "session=abc" },
    });
    expect(res.status).toBe(200);
    const [received, ...rest] = await simRequests(marker);
    expect(rest).toHaveLength(0);
    expect(received!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(received!.headers)).not.toContain(key);
    expect(received!.headers.cookie).toBeUndefined();
    const body = JSON.parse(received!.body);
    expect(body).toMatchObject({
      model: "hailuo-02-image-to-video-standard",
      first_frame_image_url: "https://img.test/a.png",
      duration_seconds: 6,
      output_resolution: "512p",
    });
    expect(body.image_url).toBeUndefined();
    expect(body.callback_url).toMatch(/^https:\/\/proxy\.test\/webhooks\/runapi\/[0-9a-f-]{36}\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(received!.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
    const text = await res.clone().text();
    expect(text).not.toContain(UPSTREAM_KEY);
  });

  it("keeps the tenant's callback_url for itself and gives RunAPI the proxy's", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(marker, { callback_url: "https://tenant.test/hook" }) });
    expect(res.status).toBe(200);
    const [received] = await simRequests(marker);
    expect(JSON.parse(received!.body).callback_url).not.toContain("tenant.test");
  });

  it("answers status from the tenant's object on both paths", async () => {
    const { key } = await tenantWithKey();
    const { id } = await json(await api(key, "/api/v1/hailuo/image_to_video", { body: i2v(nonce()) }));
    expect(await upstreamIdOf(id)).toMatch(/^[0-9a-f-]{36}$/); // RunAPI got it, with the proxy's id as Idempotency-Key
    for (const path of [`/api/v1/hailuo/image_to_video/${id}`, `/api/v1/tasks/${id}`]) {
      const res = await api(key, path);
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({
        id,
        task_id: id,
        status: "pending",
        model: "hailuo-02-image-to-video-standard",
        estimated_cost_usd: 0.5,
        charged_usd: null,
      });
    }
  });

  it("answers 404 for a task asked for on the other endpoint, as RunAPI does", async () => {
    const { key } = await tenantWithKey();
    const { id } = await json(await api(key, "/api/v1/hailuo/image_to_video", { body: i2v(nonce()) }));
    expect((await api(key, `/api/v1/hailuo/text_to_video/${id}`)).status).toBe(404);
    expect((await api(key, `/api/v1/hailuo/image_to_video/${id}`)).status).toBe(200);
  });

  it("hides another tenant's task and unknown ids behind 404", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const { id } = await json(await api(a.key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }));
    for (const path of [
      `/api/v1/hailuo/text_to_video/${id}`,
      `/api/v1/tasks/${id}`,
      `/api/v1/tasks/${id}/events`,
      `/api/v1/tasks/${crypto.randomUUID()}`,
      "/api/v1/tasks/not-a-uuid",
    ]) {
      const res = await api(b.key, path);
      expect(res.status, path).toBe(404);
      expect((await json(res)).error.code).toBe("not_found");
    }
  });

  it("answers /health and unknown routes in the error format", async () => {
    expect(await json(await proxy("/health"))).toEqual({ ok: true });
    const res = await proxy("/nope");
    expect(res.status).toBe(404);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "not_found" });
    expect(body.error.request_id).toBe(res.headers.get("X-Request-Id"));
  });
});
