import { describe, expect, it } from "vitest";
import { api, expectError, i2v, issueFields, json, ledgerObject, nonce, proxy, simRequests, t2v, tenantBudget, tenantWithKey } from "./helpers";

const T2V = "/api/v1/hailuo/text_to_video";
const I2V = "/api/v1/hailuo/image_to_video";
const IMG = "https://img.test/first.png";
const END = "https://img.test/last.png";
const V23_STD = "hailuo-2.3-image-to-video-standard";
const V23_PRO = "hailuo-2.3-image-to-video-pro";

type Case = [name: string, path: string, body: (marker: string) => Record<string, unknown>, fields: string[]];

/** SPEC §2 rules, each broken once; every row must name exactly the fields listed. */
const REJECTED: Case[] = [
  ["unknown fields, by name", T2V, (m) => t2v(m, { colour: "red", seed: 7 }), ["colour", "seed"]],
  ["an image model on text_to_video", T2V, (m) => i2v(m), ["model"]],
  ["a text model on image_to_video", I2V, (m) => t2v(m), ["model"]],
  ["an unknown model", T2V, (m) => t2v(m, { model: "hailuo-03-text-to-video" }), ["model"]],
  ["10 s on 02 text pro (fixed 6 s)", T2V, (m) => ({ model: "hailuo-02-text-to-video-pro", prompt: m, duration_seconds: 10 }), ["duration_seconds"]],
  ["8 s on 02 image standard", I2V, (m) => i2v(m, { duration_seconds: 8 }), ["duration_seconds"]],
  ["duration as a word", I2V, (m) => i2v(m, { duration_seconds: "six" }), ["duration_seconds"]],
  ["any resolution on a text model", T2V, (m) => t2v(m, { output_resolution: "768p" }), ["output_resolution"]],
  ["1080p on 02 image standard", I2V, (m) => i2v(m, { output_resolution: "1080p" }), ["output_resolution"]],
  ["512p on 2.3 standard", I2V, (m) => i2v(m, { model: V23_STD, output_resolution: "512p" }), ["output_resolution"]],
  ["768p on 02 image pro (fixed 1080p)", I2V, (m) => i2v(m, { model: "hailuo-02-image-to-video-pro", output_resolution: "768p" }), ["output_resolution"]],
  ["1080p with 10 s on 2.3 standard", I2V, (m) => i2v(m, { model: V23_STD, output_resolution: "1080p", duration_seconds: 10 }), ["output_resolution"]],
  ["1080p with 10 s on 2.3 pro", I2V, (m) => i2v(m, { model: V23_PRO, output_resolution: "1080p", duration_seconds: 10 }), ["output_resolution"]],
  ["a last frame on 2.3", I2V, (m) => i2v(m, { model: V23_PRO, last_frame_image_url: END }), ["last_frame_image_url"]],
  ["a legacy end frame on 2.3", I2V, (m) => i2v(m, { model: V23_STD, end_image_url: END }), ["end_image_url"]],
  ["a frame on a text model", T2V, (m) => t2v(m, { first_frame_image_url: IMG }), ["first_frame_image_url"]],
  ["no first frame", I2V, (m) => ({ model: "hailuo-02-image-to-video-standard", prompt: m }), ["first_frame_image_url"]],
  ["an http: first frame", I2V, (m) => i2v(m, { first_frame_image_url: "http://img.test/a.png" }), ["first_frame_image_url"]],
  ["a relative last frame", I2V, (m) => i2v(m, { last_frame_image_url: "/a.png" }), ["last_frame_image_url"]],
  ["an http: callback_url", T2V, (m) => t2v(m, { callback_url: "http://tenant.test/hook" }), ["callback_url"]],
  ["no prompt", T2V, (m) => ({ model: "hailuo-02-text-to-video-standard", duration_seconds: 6, callback_url: `https://t.test/${m}` }), ["prompt"]],
  ["a blank prompt", T2V, (m) => t2v("   ", { callback_url: `https://t.test/${m}` }), ["prompt"]],
  ["a 1501-character prompt on 02", T2V, (m) => t2v(m + "x".repeat(1501 - m.length)), ["prompt"]],
  ["a 5001-character prompt on 2.3", I2V, (m) => i2v(m + "x".repeat(5001 - m.length), { model: V23_STD }), ["prompt"]],
  ["a model that is not a string", T2V, (m) => t2v(m, { model: 42 }), ["model"]],
  ["a prompt that is not a string", T2V, (m) => t2v(m, { prompt: [m] }), ["prompt"]],
  ["a frame URL that is an object", I2V, (m) => i2v(m, { first_frame_image_url: { url: IMG } }), ["first_frame_image_url"]],
  ["a string boolean", T2V, (m) => t2v(m, { prompt_optimizer: "yes" }), ["prompt_optimizer"]],
  ["an alias that contradicts its field", I2V, (m) => i2v(m, { duration_seconds: 6, duration: 10 }), ["duration"]],
];

describe("SPEC §2 rules through the proxy", () => {
  it.each(REJECTED)("rejects %s with 400 naming the field, forwarding nothing", async (_name, path, body, fields) => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const error = await expectError(await api(key, path, { body: body(marker) }), 400, "invalid_request");
    expect(issueFields(error).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(error.message).toContain(field);
    expect(await simRequests(marker)).toEqual([]);
  });

  it("reports every bad field of one body at once", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const body = { model: V23_STD, prompt: marker, duration: 8, resolution: "512P", end_image_url: "http://x.test/a.png", extra: 1 };
    const error = await expectError(await api(key, I2V, { body }), 400, "invalid_request");
    expect(issueFields(error).sort()).toEqual(["duration", "end_image_url", "extra", "first_frame_image_url", "resolution"]);
    expect(await simRequests(marker)).toEqual([]);
  });

  it("accepts a 1501-character prompt on 2.3 that 02 refuses", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const prompt = marker + "x".repeat(1501 - marker.length);
    const res = await api(key, I2V, { body: i2v(prompt, { model: V23_STD, duration_seconds: 6 }) });
    expect(res.status, await res.clone().text()).toBe(200);
    const [received] = await simRequests(marker);
    expect(JSON.parse(received!.body).prompt).toHaveLength(1501);
  });
});

describe("legacy aliases are accepted and normalised before forwarding", () => {
  const ALIASES: [name: string, path: string, body: (m: string) => Record<string, unknown>, forwarded: Record<string, unknown>, absent: string[]][] = [
    ["image_url", I2V, (m) => ({ model: "hailuo-02-image-to-video-standard", prompt: m, image_url: IMG }), { first_frame_image_url: IMG }, ["image_url"]],
    ["end_image_url", I2V, (m) => i2v(m, { end_image_url: END }), { last_frame_image_url: END }, ["end_image_url"]],
    ['duration "6"', I2V, (m) => i2v(m, { duration: "6" }), { duration_seconds: 6 }, ["duration"]],
    ["duration 6", T2V, (m) => ({ model: "hailuo-02-text-to-video-standard", prompt: m, duration: 6 }), { duration_seconds: 6 }, ["duration"]],
    ['resolution "768P"', I2V, (m) => i2v(m, { resolution: "768P" }), { output_resolution: "768p" }, ["resolution"]],
    ["nsfw_checker", T2V, (m) => t2v(m, { nsfw_checker: false }), { enable_safety_checker: false }, ["nsfw_checker"]],
    ["hailuo-2-3-…", I2V, (m) => i2v(m, { model: "hailuo-2-3-image-to-video-standard", duration_seconds: 6 }), { model: V23_STD }, []],
  ];

  it.each(ALIASES)("accepts %s and forwards the canonical field", async (_name, path, body, forwarded, absent) => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await api(key, path, { body: body(marker) });
    expect(res.status, await res.clone().text()).toBe(200);
    const received = await simRequests(marker);
    expect(received).toHaveLength(1);
    const sent = JSON.parse(received[0]!.body);
    expect(sent).toMatchObject(forwarded);
    for (const field of absent) expect(sent).not.toHaveProperty(field);
  });

  it("answers the normalised model id to the client", async () => {
    const { key } = await tenantWithKey();
    const body = await json(await api(key, I2V, { body: i2v(nonce(), { model: "hailuo-2-3-image-to-video-pro" }) }));
    expect(body.model).toBe(V23_PRO);
  });
});

describe("malformed bodies: a 4xx in the SPEC format, never a 500, nothing forwarded", () => {
  const raw = (key: string, body: BodyInit | null, headers: Record<string, string>) =>
    proxy(T2V, { method: "POST", headers: { Authorization: `Bearer ${key}`, ...headers }, body });

  it.each([
    ["malformed JSON", (m: string) => `{"model":"hailuo-02-text-to-video-standard","prompt":"${m}",`],
    ["a JSON array", (m: string) => JSON.stringify([t2v(m)])],
    ["JSON null", () => "null"],
    ["a JSON string", (m: string) => JSON.stringify(m)],
    ["a JSON number", () => "42"],
    ["an empty body", () => ""],
    ["whitespace only", () => "  \n "],
  ])("rejects %s with 400 invalid_request", async (_name, body) => {
    const { key, tenantId } = await tenantWithKey();
    const marker = nonce();
    await expectError(await raw(key, body(marker), { "Content-Type": "application/json" }), 400, "invalid_request");
    expect(await simRequests(marker)).toEqual([]);
    // Nothing is forwarded without a reservation, and none was made (this holds for bodies with no room for a marker).
    expect((await ledgerObject(tenantId).entries({})).entries).toEqual([]);
  });

  it.each([
    ["text/plain", { "Content-Type": "text/plain" }],
    ["form encoding", { "Content-Type": "application/x-www-form-urlencoded" }],
    ["no content type", {}],
  ])("rejects %s with 415 unsupported_media_type", async (_name, headers) => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    await expectError(await raw(key, new TextEncoder().encode(JSON.stringify(t2v(marker))), headers), 415, "unsupported_media_type");
    expect(await simRequests(marker)).toEqual([]);
  });

  it("accepts application/json with a charset", async () => {
    const { key } = await tenantWithKey();
    const res = await raw(key, JSON.stringify(t2v(nonce())), { "Content-Type": "application/json; charset=utf-8" });
    expect(res.status).toBe(200);
  });

  it("rejects a body over MAX_BODY_BYTES (65536) with 413", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const body = JSON.stringify(t2v(marker, { padding: "x".repeat(65_536) }));
    const error = await expectError(await raw(key, body, { "Content-Type": "application/json" }), 413, "payload_too_large");
    expect(error.details).toMatchObject({ max_bytes: 65_536 });
    expect(await simRequests(marker)).toEqual([]);
  });

  it("rejects an oversized streamed body with no Content-Length with 413", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const bytes = new TextEncoder().encode(JSON.stringify(t2v(marker, { padding: "x".repeat(70_000) })));
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, (offset += 8192)));
      },
    });
    const res = await raw(key, stream, { "Content-Type": "application/json" });
    await expectError(res, 413, "payload_too_large");
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("request ids and headers", () => {
  it("echoes a sane caller X-Request-Id on an error, in the header and the body", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, T2V, { body: t2v(nonce(), { colour: "red" }), headers: { "X-Request-Id": "client-req-0001" } });
    expect((await expectError(res, 400, "invalid_request")).request_id).toBe("client-req-0001");
  });

  it("replaces an unsafe caller X-Request-Id with its own", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, T2V, { body: t2v(nonce(), { colour: "red" }), headers: { "X-Request-Id": "<script>alert(1)</script>" } });
    expect((await expectError(res, 400, "invalid_request")).request_id).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("rejects an Idempotency-Key over 512 characters, forwarding nothing", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const error = await expectError(await api(key, T2V, { body: t2v(marker), headers: { "Idempotency-Key": "k".repeat(513) } }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(["Idempotency-Key"]);
    expect(await simRequests(marker)).toEqual([]);
  });
});

describe("POST /api/v1/estimate and GET /api/v1/prices", () => {
  it("prices a create body without reserving or forwarding anything", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const res = await api(key, "/api/v1/estimate", { body: t2v(marker) });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      model: "hailuo-02-text-to-video-standard",
      estimated_cost_usd: 0.3,
      price_source: "published",
      budget: { remaining_usd: 100, would_exceed: false },
    });
    expect(await simRequests(marker)).toEqual([]);
    expect(await tenantBudget(key)).toMatchObject({ reserved_usd: 0, spent_usd: 0, remaining_usd: 100 });
  });

  it("prices the effective shape of an aliased image body", async () => {
    const { key } = await tenantWithKey();
    const body = await json(
      await api(key, "/api/v1/estimate", { body: { model: "hailuo-2-3-image-to-video-pro", prompt: nonce(), image_url: IMG, duration: "10" } }),
    );
    // 2.3 pro at 10 s renders 768p: RunAPI's published 90¢.
    expect(body).toMatchObject({
      model: V23_PRO,
      params: { duration_seconds: 10, output_resolution: "768p" },
      estimated_cost_usd: 0.9,
      price_source: "published",
    });
  });

  it("says when a request would exceed the budget", async () => {
    const { key } = await tenantWithKey({ budget: { limit_usd: 0.25, period: "day" } });
    const body = await json(await api(key, "/api/v1/estimate", { body: t2v(nonce()) }));
    expect(body.budget).toEqual({ remaining_usd: 0.25, would_exceed: true });
  });

  it("rejects an invalid body like a create would", async () => {
    const { key } = await tenantWithKey();
    const marker = nonce();
    const error = await expectError(await api(key, "/api/v1/estimate", { body: t2v(marker, { duration_seconds: 7 }) }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(["duration_seconds"]);
    expect(await simRequests(marker)).toEqual([]);
  });

  it("rejects an unknown ?endpoint= naming it", async () => {
    const { key } = await tenantWithKey();
    const error = await expectError(await api(key, "/api/v1/estimate?endpoint=video_to_video", { body: t2v(nonce()) }), 400, "invalid_request");
    expect(issueFields(error)).toEqual(["endpoint"]);
  });

  it("rejects a malformed estimate body like a create", async () => {
    const { key } = await tenantWithKey();
    await expectError(await api(key, "/api/v1/estimate", { body: "[1," }), 400, "invalid_request");
  });

  it("lists every price of the catalog in the caller's terms, each with its provenance, cacheable by ETag", async () => {
    const { key } = await tenantWithKey();
    const res = await api(key, "/api/v1/prices");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ currency: "USD", schedule: { origin: "bundled", synced_at: null }, pricing_mode: "table" });
    expect(body.prices.length).toBeGreaterThan(250);
    for (const p of body.prices) expect(["published", "provisional"]).toContain(p.source);
    expect(body.prices).toContainEqual(
      expect.objectContaining({ service: "hailuo", model: "hailuo-02-text-to-video-pro", unit_price_cents: 57, source: "published" }),
    );
    expect((await api(key, "/api/v1/prices", { headers: { "If-None-Match": res.headers.get("etag")! } })).status).toBe(304);
  });
});
