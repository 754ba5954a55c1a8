import { describe, expect, it } from "vitest";
import { admin, expectError, json, ledgerObject, newKey, nonce, simRequests, tenantBudget, tenantWithKey } from "./helpers";
import { b64, type UploadObject, uploadClient } from "./upload-client";

// RunAPI's schedule does not price uploads (the bundled one has no `files`/`upload` entry), so an upload is free:
// nothing is reserved or charged, but every call still counts against the key's (and a visitor's) requests per
// minute and is refused by the tenant's object for a disabled tenant or a revoked key.

/** Starts a test well inside a minute, so its calls share one fixed requests-per-minute window. */
async function freshMinute(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
}

const png = () => ({ type: "base64", data: b64(new Uint8Array([137, 80, 78, 71])) });

describe("free uploads", () => {
  it("reserve and charge nothing: no ledger entry, no budget moved", async () => {
    const { key, tenantId } = await tenantWithKey();
    const client = uploadClient(key);
    const file = await client.createFile({ file_name: `${nonce()}.png`, source: png() });
    expect(file.status).toBe(200);
    expect(file.headers.get("X-Estimated-Cost-Usd")).toBe("0.000000");
    expect(file.headers.get("X-Charged-Usd")).toBe("0.000000");
    const upload = (await json(await client.createUpload({ bytes: 1, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;
    const part = (await json(await client.addPart(upload.id, new Blob(["x"])))) as { id: string };
    expect((await client.complete(upload.id, [part.id])).status).toBe(200);

    expect(await tenantBudget(key)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    expect((await json(await admin(`/admin/v1/tenants/${tenantId}/ledger`))).entries).toEqual([]);
  });

  it("count every call against the key's requests_per_minute; the one over it is a 429 that RunAPI never sees", async () => {
    await freshMinute();
    const { key, tenantId } = await tenantWithKey({ limits: { requests_per_minute: 3 } });
    const client = uploadClient(key);
    const upload = (await json(await client.createUpload({ bytes: 1, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;
    const part = (await json(await client.addPart(upload.id, new Blob(["x"])))) as { id: string };
    expect((await client.complete(upload.id, [part.id])).status).toBe(200);

    const marker = nonce();
    const refused = await client.createFile({ file_name: marker, source: png() });
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "requests_per_minute" });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await simRequests(marker)).toEqual([]);
    // Per key: the tenant's other key is not held back.
    const other = await newKey(tenantId);
    expect((await uploadClient(other.key).createFile({ file_name: marker, source: png() })).status).toBe(200);
  });

  it("count a publishable key's calls per visitor", async () => {
    await freshMinute();
    const { tenantId } = await tenantWithKey();
    const pk = await newKey(tenantId, { kind: "publishable", allowed_origins: ["https://app.example"], end_user_requests_per_minute: 2 });
    const visitor = (ip: string) => uploadClient(pk.key, { origin: "https://app.example", "cf-connecting-ip": ip });
    const first = visitor("203.0.113.5");
    for (let i = 0; i < 2; i++) expect((await first.createFile({ file_name: nonce(), source: png() })).status).toBe(200);
    const marker = nonce();
    const error = await expectError(await first.createFile({ file_name: marker, source: png() }), 429, "rate_limited");
    expect(error.details).toMatchObject({ limit: "end_user_requests_per_minute" });
    expect(await simRequests(marker)).toEqual([]);
    expect((await visitor("203.0.113.6").createFile({ file_name: marker, source: png() })).status).toBe(200);
  });
});

describe("refusals by the tenant's object (before KV has caught up)", () => {
  it("refuses every upload call of a suspended tenant with 403, and sends RunAPI nothing", async () => {
    const { key, tenantId } = await tenantWithKey();
    const client = uploadClient(key);
    const upload = (await json(await client.createUpload({ bytes: 1, filename: `${nonce()}.txt`, mime_type: "text/plain" }))) as UploadObject;
    await ledgerObject(tenantId).setSuspended(true, Date.now());

    const marker = nonce();
    await expectError(await client.createFile({ file_name: marker, source: png() }), 403, "forbidden");
    await expectError(await client.createUpload({ bytes: 1, filename: marker, mime_type: "text/plain" }), 403, "forbidden");
    await expectError(await client.cancel(upload.id), 403, "forbidden");
    expect(await simRequests(marker)).toEqual([]);
  });

  it("refuses a key the object knows is revoked with 401", async () => {
    const { key, keyId, tenantId } = await tenantWithKey();
    await ledgerObject(tenantId).revokeKey(keyId, Date.now() - 1);
    const marker = nonce();
    await expectError(await uploadClient(key).prepare(new Uint8Array([1]), marker, "image/png"), 401, "unauthorized");
    expect(await simRequests(marker)).toEqual([]);
  });
});
