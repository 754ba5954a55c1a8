import { describe, expect, it } from "vitest";
import { timeOrderedUuid } from "../src/lib/crypto";
import { api, json, nonce, t2v, tenantWithKey } from "./helpers";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("time-ordered ids (UUID version 7)", () => {
  it("carries its millisecond in the first 48 bits, then version 7, the RFC variant and random bits", () => {
    const at = Date.UTC(2026, 11, 5, 12, 0, 0, 123);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    // Same millisecond, different ids: 74 random bits each.
    const many = new Set(Array.from({ length: 1_000 }, () => timeOrderedUuid(at)));
    expect(many.size).toBe(1_000);
  });

  it("sorts by the time it was made, as text (how SQLite orders the tenant's task and hold keys)", () => {
    const base = Date.UTC(2026, 0, 1);
    const times = [base, base + 1, base + 255, base + 256, base + 65_536, base + 86_400_000 * 400];
    const ids = times.map((t) => timeOrderedUuid(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it("names the tasks a create makes: later tasks have later ids", async () => {
    const { key } = await tenantWithKey();
    const first = await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce()) }));
    expect(first.id).toMatch(V7);
    expect(second.id).toMatch(V7);
    expect(second.id > first.id).toBe(true);
  });
});
