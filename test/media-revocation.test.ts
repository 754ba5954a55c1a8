import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { linkRefusal } from "../src/archive/access";
import { MEMO_MS, READ_CACHE_TTL } from "../src/lib/tenant-store";
import { admin, advanceUpstream, api, deliverCallbacks, eventually, expectError, getTask, json, newKey, nonce, tenantWithKey } from "./helpers";

// SPEC §13 "Revocation reaches links": disabling a tenant or revoking the key that created a task stops its signed
// media links within a minute (docs/video-archive.md: the owner is in the R2 object, its records memoised briefly).

const fetchProxy = (url: string, headers: Record<string, string> = {}, method = "GET") => exports.default.fetch(new Request(url, { headers, method }));

/** A Seedream image task made with `key`, completed and archived; its first image's proxy link. */
async function archivedImage(key: string): Promise<{ id: string; url: string }> {
  const body = { model: "seedream-v4-edit", prompt: `${nonce()} a fox`, source_image_urls: ["https://img.test/a.png"] };
  const id = (await json(await api(key, "/api/v1/seedream/edit_image", { body }))).id as string;
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
  const url = await eventually(async () => {
    const image = (await getTask(key, id)).images[0];
    expect(image.source_url).toBeDefined();
    return image.url as string;
  }, 10_000);
  return { id, url };
}

async function expectRevoked(url: string): Promise<void> {
  const error = await expectError(await fetchProxy(url), 403, "forbidden");
  expect(error.message).toBe("This link has been revoked");
  // Ranges and HEAD too: nothing of the file is served.
  expect((await fetchProxy(url, { Range: "bytes=0-3" })).status).toBe(403);
  expect((await fetchProxy(url, {}, "HEAD")).status).toBe(403);
}

describe("revocation reaches links", () => {
  it("revoking the key that created a task stops its links, fresh ones included; the tenant's other keys' tasks keep theirs", async () => {
    const { tenantId, key, keyId } = await tenantWithKey();
    const other = await newKey(tenantId);
    const revoked = await archivedImage(key);
    const kept = await archivedImage(other.key);
    expect((await fetchProxy(revoked.url)).status).toBe(200);

    expect((await admin(`/admin/v1/tenants/${tenantId}/keys/${keyId}`, { method: "DELETE" })).status).toBe(200);
    await expectRevoked(revoked.url);
    // A link signed afresh (the other secret key sees every task of the tenant) is refused as well: the key is the object's.
    const fresh = (await getTask(other.key, revoked.id)).images[0].url as string;
    await expectRevoked(fresh);
    expect((await fetchProxy(kept.url)).status).toBe(200);
  });

  it("disabling the tenant stops every link of its tasks; enabling it again brings them back", async () => {
    const { tenantId, key } = await tenantWithKey();
    const { url } = await archivedImage(key);
    expect((await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { status: "disabled" } })).status).toBe(200);
    await expectRevoked(url);
    expect((await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { status: "active" } })).status).toBe(200);
    const res = await fetchProxy(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
  });

  it("a change written elsewhere (another isolate, KV's edge) reaches this isolate within MEMO_MS, and KV's edge within READ_CACHE_TTL: under a minute", async () => {
    expect(MEMO_MS + READ_CACHE_TTL * 1000).toBeLessThanOrEqual(60_000);
    const { tenantId, key, keyId } = await tenantWithKey();
    const { id } = await archivedImage(key);
    const meta = (await env.VIDEOS.head(`media/${id}/0.png`))!.customMetadata!;
    const owner = { tenantId: meta.tenant, keyId: meta.key, taskId: id };
    expect(owner).toEqual({ tenantId, keyId, taskId: id });

    // A clock of its own, past anything this isolate memoised in real time.
    const t0 = Date.now() + 3_600_000;
    expect(await linkRefusal(env, owner, t0)).toBeNull();
    // The tenant is disabled by a write this isolate did not make (KV written directly, as another isolate would).
    const tenant = (await env.TENANTS.get(`tenant:${tenantId}`, "json")) as Record<string, unknown>;
    await env.TENANTS.put(`tenant:${tenantId}`, JSON.stringify({ ...tenant, status: "disabled" }));
    expect(await linkRefusal(env, owner, t0 + MEMO_MS - 1)).toBeNull();
    expect(await linkRefusal(env, owner, t0 + MEMO_MS)).toBe("tenant_disabled");

    // Enabled again, and the key revoked elsewhere: the same window.
    await env.TENANTS.put(`tenant:${tenantId}`, JSON.stringify(tenant));
    const t1 = t0 + 2 * MEMO_MS;
    expect(await linkRefusal(env, owner, t1)).toBeNull();
    const { hash } = (await env.TENANTS.get(`tkey:${tenantId}:${keyId}`, "json")) as { hash: string };
    const record = (await env.TENANTS.get(`key:${hash}`, "json")) as Record<string, unknown>;
    await env.TENANTS.put(`key:${hash}`, JSON.stringify({ ...record, revoked_at: new Date().toISOString() }));
    expect(await linkRefusal(env, owner, t1 + MEMO_MS - 1)).toBeNull();
    expect(await linkRefusal(env, owner, t1 + MEMO_MS)).toBe("key_revoked");
  });

  it("an object that names no tenant is never served, whatever its signature", async () => {
    expect(await linkRefusal(env, { tenantId: undefined, keyId: "key_x", taskId: crypto.randomUUID() })).toBe("unknown_owner");
  });
});
