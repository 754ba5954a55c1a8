import { describe, expect, it } from "vitest";
import { admin, api, expectError, json, newKey, nonce, proxy, simRequests, t2v, tenantWithKey } from "./helpers";

// A key's own allowed_models: within the tenant's list, enforced on every billable request made with the key.
const HAILUO_T2V = "/api/v1/hailuo/text_to_video";
const FLUX_T2I = "/api/v1/flux/text_to_image";
const ORIGIN = "https://app.example";
const flux = (prompt: string) => ({ model: "flux-dev", prompt, aspect_ratio: "1:1" });
const asVisitor = { Origin: ORIGIN, "CF-Connecting-IP": "203.0.113.9" };

async function publishable(allowed: string[] | undefined, tenant: Record<string, unknown> = {}) {
  const { tenantId, key } = await tenantWithKey(tenant);
  const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: [ORIGIN], ...(allowed ? { allowed_models: allowed } : {}) });
  return { tenantId, secret: key, pk: pk.key, pkId: pk.id };
}

describe("a key's allowed_models", () => {
  it("is validated like the tenant's, and shown in the key's JSON (null when absent)", async () => {
    const { tenantId } = await tenantWithKey();
    // An entry that would match nothing is refused: not a catalog model, or service/action/model (a model is named alone).
    const bad = await admin(`/admin/v1/tenants/${tenantId}/keys`, {
      body: { kind: "secret", allowed_models: ["gpt-4", "flux", "kling/text_to_video/kling-v2.6"] },
    });
    expect((await expectError(bad, 400, "invalid_request")).details.issues.map((i: { field: string }) => i.field)).toEqual([
      "allowed_models.0",
      "allowed_models.2",
    ]);
    const made = await json(
      await admin(`/admin/v1/tenants/${tenantId}/keys`, {
        body: { kind: "secret", allowed_models: ["flux", "hailuo/text_to_video", "seedream-5-pro-text-to-image"] },
      }),
    );
    expect(made.allowed_models).toEqual(["flux", "hailuo/text_to_video", "seedream-5-pro-text-to-image"]);
    const plain = await json(await admin(`/admin/v1/tenants/${tenantId}/keys`, { body: { kind: "secret" } }));
    expect(plain.allowed_models).toBeNull();
    const { keys } = await json(await admin(`/admin/v1/tenants/${tenantId}/keys`));
    expect(keys.find((k: { id: string }) => k.id === made.id).allowed_models).toEqual(["flux", "hailuo/text_to_video", "seedream-5-pro-text-to-image"]);
  });

  it("refuses a publishable key's request for another model with 403, saying neither list, and forwards nothing", async () => {
    const { pk } = await publishable(["flux/text_to_image"]);
    const marker = nonce();
    const refused = await expectError(await api(pk, HAILUO_T2V, { body: t2v(marker), headers: asVisitor }), 403, "forbidden");
    expect(refused.message).toBe("Model hailuo-02-text-to-video-standard is not available with this key");
    expect(refused.details).toBeUndefined();
    await expectError(await api(pk, "/api/v1/estimate", { body: t2v(marker), headers: asVisitor }), 403, "forbidden");
    const quote = { service: "hailuo", action: "text_to_video", model: "hailuo-02-text-to-video-standard", params: { duration_seconds: 6 } };
    await expectError(await api(pk, "/api/v1/price_quotes", { body: quote, headers: asVisitor }), 403, "forbidden");
    expect(await simRequests(marker)).toEqual([]);

    const allowed = nonce();
    expect((await api(pk, FLUX_T2I, { body: flux(allowed), headers: asVisitor })).status).toBe(200);
    expect(await simRequests(allowed)).toHaveLength(1);
  });

  it("cannot widen the tenant's list, and a browser caller cannot tell which list refused it", async () => {
    const { pk } = await publishable(["flux"], { allowed_models: ["hailuo"] });
    const byTenant = await expectError(await api(pk, FLUX_T2I, { body: flux(nonce()), headers: asVisitor }), 403, "forbidden");
    const byKey = await expectError(await api(pk, HAILUO_T2V, { body: t2v(nonce()), headers: asVisitor }), 403, "forbidden");
    expect(byTenant.details).toBeUndefined();
    expect(byKey.details).toBeUndefined();
    expect(byTenant.message).toMatch(/is not available with this key$/);
    expect(byKey.message).toMatch(/is not available with this key$/);
  });

  it("tells a secret key's server which list refused it", async () => {
    const { tenantId } = await tenantWithKey({ allowed_models: ["hailuo", "flux"] });
    const sk = await newKey(tenantId, { allowed_models: ["hailuo-02-text-to-video-pro"] });
    const refused = await expectError(await api(sk.key, HAILUO_T2V, { body: t2v(nonce()) }), 403, "forbidden");
    expect(refused.message).toBe("Model hailuo-02-text-to-video-standard is not enabled for this key");
    expect(refused.details).toEqual({ key_allowed_models: ["hailuo-02-text-to-video-pro"] });
    expect((await api(sk.key, HAILUO_T2V, { body: { model: "hailuo-02-text-to-video-pro", prompt: nonce() } })).status).toBe(200);
  });

  it("holds for end-user tokens minted with the key, and survives a rotation", async () => {
    const { tenantId } = await tenantWithKey();
    const sk = await newKey(tenantId, { allowed_models: ["flux"] });
    const token = (await json(await api(sk.key, "/api/v1/end_user_tokens", { body: { sub: "erin" } }))).token;
    await expectError(await api(token, HAILUO_T2V, { body: t2v(nonce()) }), 403, "forbidden");
    expect((await api(token, FLUX_T2I, { body: flux(nonce()) })).status).toBe(200);

    const rotated = await json(await admin(`/admin/v1/tenants/${tenantId}/keys/${sk.id}/rotate`, { body: { overlap_seconds: 0 } }));
    expect(rotated.allowed_models).toEqual(["flux"]);
    await expectError(await api(rotated.key, HAILUO_T2V, { body: t2v(nonce()) }), 403, "forbidden");
  });

  it("absent, only the tenant's list applies", async () => {
    const { pk } = await publishable(undefined);
    expect((await api(pk, FLUX_T2I, { body: flux(nonce()), headers: asVisitor })).status).toBe(200);
    expect((await api(pk, HAILUO_T2V, { body: t2v(nonce()), headers: { ...asVisitor, "CF-Connecting-IP": "203.0.113.10" } })).status).toBe(200);
  });
});

describe("allowed_models covers chat (a model, or chat for every chat model)", () => {
  const chat = (key: string, model: string, content: string) => api(key, "/v1/chat/completions", { body: { model, messages: [{ role: "user", content }] } });
  const listed = async (key: string) => (await json(await api(key, "/v1/models"))).data.map((m: { id: string }) => m.id);

  it("a key's list: a chat model it names is served, another is refused 403 before RunAPI, and /v1/models shows only its own", async () => {
    const { tenantId } = await tenantWithKey();
    const { key } = await newKey(tenantId, { allowed_models: ["hailuo", "gpt-4o-mini"] });
    const n = nonce();
    expect((await chat(key, "gpt-4o-mini", `ok ${n}`)).status).toBe(200);
    const refused = await expectError(await chat(key, "gpt-4o", `no ${n}`), 403, "forbidden");
    expect(refused).toMatchObject({ type: "permission_error", details: { key_allowed_models: ["hailuo", "gpt-4o-mini"] } });
    expect((await simRequests(n)).map((r) => JSON.parse(r.body).model)).toEqual(["gpt-4o-mini"]);
    expect(await listed(key)).toEqual(["gpt-4o-mini"]);
    await expectError(await api(key, "/v1/models/gpt-4o"), 404, "not_found");
    expect((await json(await api(key, "/v1/models/gpt-4o-mini"))).id).toBe("gpt-4o-mini");
  });

  it("a tenant listing only media models refuses every chat; `chat` in its list allows them all", async () => {
    const media = await tenantWithKey({ allowed_models: ["kling"] });
    const n = nonce();
    await expectError(await chat(media.key, "gpt-4o-mini", n), 403, "forbidden");
    expect(await simRequests(n)).toHaveLength(0);
    expect(await listed(media.key)).toEqual([]);
    const both = await tenantWithKey({ allowed_models: ["kling", "chat"] });
    expect((await chat(both.key, "gpt-4o", n)).status).toBe(200);
    expect((await listed(both.key)).length).toBeGreaterThan(1);
    // Without a key the list is RunAPI's whole chat list, as before.
    expect((await json(await proxy("/v1/models"))).data.length).toBe((await listed(both.key)).length);
  });

  it("a publishable key refused a chat model hears neither list", async () => {
    const { pk } = await publishable(["hailuo"]);
    const error = await expectError(
      await api(pk, "/v1/chat/completions", { body: { model: "gpt-4o-mini", messages: [{ role: "user", content: nonce() }] }, headers: asVisitor }),
      403,
      "forbidden",
    );
    expect(error.message).toBe("Model gpt-4o-mini is not available with this key");
    expect(error.details).toBeUndefined();
  });
});
