import { describe, expect, it } from "vitest";
import { minimalRequest, sampleCases, type SampleCase } from "../sim/samples";
import { allActions, catalogSize, fieldsFor, type CatalogAction } from "../src/catalog/catalog";
import { BUNDLED_SCHEDULE } from "../src/catalog/schedule.gen";
import type { FieldSpec } from "../src/catalog/types";
import { indexSchedule, maxCents } from "../src/domain/price-schedule";
import { api, expectError, issueFields, json, ledgerObject, nonce, recorded, simApi, simRequests, tenantWithKey } from "./helpers";

// The whole catalog through the proxy (SPEC §12): every model × action of RunAPI's contract is accepted with
// its minimal valid request (built from the contract by the simulator's sample builder, never by hand),
// reserved at exactly the price RunAPI's own quote gives, and one invalid request of each field kind is
// refused before RunAPI sees anything.

const BATCH = 12;
const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);

/** RunAPI's quote (the simulator's, from its own copy of the schedule) for a body, in micros. */
async function simQuote(c: SampleCase, body: Record<string, unknown>): Promise<number> {
  const { model: _m, ...params } = body;
  const res = await simApi("/api/v1/price_quotes", { body: { service: c.action.service, action: c.action.action, model: c.model, params } });
  if (res.status !== 200) throw new Error(`${c.action.path} ${c.model}: sim quote ${res.status} ${await res.text()}`);
  return Math.round(((await json(res)).price_quote.reservation_amount_cents as number) * 10_000);
}

const schedule = indexSchedule(BUNDLED_SCHEDULE.price_schedules);
/** A pair whose schedule entry has no price and no bound: only a quote could price it, and the simulator's has none. */
function unpriced(c: SampleCase): boolean {
  const entry = schedule.entry(c.action.service, c.action.action, c.model);
  return entry !== undefined && entry.unit_price_cents == null && maxCents(entry) === null && entry.billing_strategy === "per_task";
}

/** The first action × model whose fields hold one that `pick` chooses. */
function findField(pick: (name: string, spec: FieldSpec, a: CatalogAction) => boolean): { c: SampleCase; name: string; spec: FieldSpec } {
  for (const c of sampleCases()) {
    for (const [name, spec] of fieldsFor(c.action, c.model))
      if (name !== "model" && name !== "callback_url" && pick(name, spec, c.action)) return { c, name, spec };
  }
  throw new Error("no such field in the catalog");
}

describe("every RunAPI model × action", () => {
  it("is the whole contract: 126 actions of 40 services, 259 model × action pairs (an action without models once)", () => {
    expect(catalogSize()).toEqual({ actions: 126, services: 40, pairs: 259 });
    expect(sampleCases()).toHaveLength(259);
  });

  it("accepts each minimal valid request and reserves exactly RunAPI's price for it", async () => {
    // Every pair's task stays unfinished: no concurrency limit (a new tenant's default is 20).
    const { key, tenantId } = await tenantWithKey({
      budget: { limit_usd: 100_000, period: "month" },
      limits: { max_concurrent_tasks: null, requests_per_minute: null },
    });
    // Task-reference fields (`source_task_id`, `task_id`) name an earlier task of the caller's: make one RunAPI accepted.
    const kling = allActions().find((a) => a.service === "kling" && a.action === "text_to_video")!;
    const source = await json(await api(key, kling.path, { body: minimalRequest(kling, "kling-v2.6") }));
    expect(source.status).toBe("pending");
    await recorded(tenantId, source.id);

    const mismatches: string[] = [];
    const cases = sampleCases();
    for (let i = 0; i < cases.length; i += BATCH) {
      await Promise.all(
        cases.slice(i, i + BATCH).map(async (c) => {
          const body = minimalRequest(c.action, c.model, { taskId: source.id, text: `walk ${nonce()}` });
          const res = await api(key, c.action.path, { body });
          const label = `${c.action.path} ${c.model ?? "-"}`;
          if (unpriced(c)) {
            // The schedule gives no price at all (RunAPI prices it from the output, with no bound) and RunAPI's quote has none
            // either: refused, never forwarded unpriced.
            if (res.status !== 503 || (await json(res)).error.code !== "pricing_unavailable")
              mismatches.push(`${label}: ${res.status}, not pricing_unavailable`);
            return;
          }
          if (res.status !== 200) return mismatches.push(`${label}: ${res.status} ${await res.text()}`);
          const answer = await json(res);
          if (!c.action.sync && (answer.status !== "pending" || !answer.id)) return mismatches.push(`${label}: ${JSON.stringify(answer)}`);
          if (c.action.sync && !res.headers.get("X-Charged-Usd")) return mismatches.push(`${label}: no X-Charged-Usd`);
          const reserved = micros(res.headers.get("X-Estimated-Cost-Usd") ?? "NaN");
          const quoted = await simQuote(c, body);
          if (reserved !== quoted) mismatches.push(`${label}: reserved ${reserved} µ$, RunAPI quotes ${quoted} µ$`);
        }),
      );
    }
    expect(mismatches).toEqual([]);
    expect(cases.filter(unpriced).map((c) => `${c.action.service}/${c.action.action}/${c.model}`)).toEqual(["kling/motion_control/kling-v2.6"]);
    const audit = await ledgerObject(tenantId).totalsCheck();
    expect(audit.ok, JSON.stringify(audit.mismatches.slice(0, 5))).toBe(true);
  }, 120_000);
});

/** One invalid request per field kind, built from the contract: each a 400 naming the field, and RunAPI never sees it. */
const INVALID: [string, () => { c: SampleCase; body: Record<string, unknown>; field: string }][] = [
  ["an unknown field", () => ({ c: sampleCases()[0]!, body: { colour: "red" }, field: "colour" })],
  [
    "a missing required field",
    () => {
      const f = findField((n, s) => s.required === true && s.type === "string" && !n.endsWith("_url"));
      return { c: f.c, body: { [f.name]: undefined }, field: f.name };
    },
  ],
  [
    "a wrong type",
    () => {
      const f = findField((_n, s) => s.type === "boolean");
      return { c: f.c, body: { [f.name]: "yes" }, field: f.name };
    },
  ],
  [
    "a value outside an enum",
    () => {
      const f = findField((_n, s) => s.type === "string" && (s.enum?.length ?? 0) > 1);
      return { c: f.c, body: { [f.name]: "not-an-option" }, field: f.name };
    },
  ],
  [
    "a number out of range",
    () => {
      const f = findField((_n, s) => (s.type === "integer" || s.type === "number") && s.max !== undefined && !s.enum);
      return { c: f.c, body: { [f.name]: f.spec.max! + 1 }, field: f.name };
    },
  ],
  [
    "a string too long",
    () => {
      const f = findField((n, s) => s.type === "string" && s.length === true && s.max !== undefined && s.max < 50_000 && n !== "prompt");
      return { c: f.c, body: { [f.name]: "x".repeat(f.spec.max! + 1) }, field: f.name };
    },
  ],
  [
    "too many items",
    () => {
      const f = findField((n, s) => s.type === "array" && s.max_items !== undefined && n.endsWith("_urls"));
      return { c: f.c, body: { [f.name]: Array.from({ length: f.spec.max_items! + 1 }, (_, i) => `https://img.test/${i}.png`) }, field: f.name };
    },
  ],
  [
    "a pattern not matched",
    () => {
      const f = findField((_n, s) => s.type === "string" && s.pattern !== undefined);
      return { c: f.c, body: { [f.name]: "!!! no match !!!" }, field: f.name };
    },
  ],
  [
    "a field a rule forbids",
    () => {
      const a = allActions().find((x) => x.service === "kling" && x.action === "text_to_video")!;
      return { c: { action: a, model: "kling-o1" }, body: { negative_prompt: "blur" }, field: "negative_prompt" };
    },
  ],
  [
    "a field an `http:` URL where https is required",
    () => {
      const f = findField((n, s) => s.type === "string" && n.endsWith("_image_url") && s.required === true);
      return { c: f.c, body: { [f.name]: "http://img.test/a.png" }, field: f.name };
    },
  ],
  [
    "a model sent to another action",
    () => {
      const a = allActions().find((x) => x.service === "hailuo" && x.action === "image_to_video")!;
      return { c: { action: a, model: "hailuo-02-image-to-video-standard" }, body: { model: "hailuo-02-text-to-video-standard" }, field: "model" };
    },
  ],
  [
    "a task reference that is not the caller's task",
    () => {
      const a = allActions().find((x) => x.service === "veo-3-1" && x.action === "extend_video")!;
      return { c: { action: a, model: null }, body: { source_task_id: crypto.randomUUID() }, field: "source_task_id" };
    },
  ],
];

describe("one invalid request of each field kind", () => {
  it.each(INVALID)("%s is a 400 naming the field, never sent to RunAPI, nothing held", async (_kind, make) => {
    const { key, tenantId } = await tenantWithKey();
    const { c, body: change, field } = make();
    const marker = `invalid ${nonce()}`;
    const body = { ...minimalRequest(c.action, c.model, { text: marker }), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const error = await expectError(await api(key, c.action.path, { body }), 400, "invalid_request");
    expect(issueFields(error)).toContain(field);
    // A price quote may have asked RunAPI what the request would cost; the request itself never went.
    const sent = (await simRequests(marker.split(" ")[1]!)).filter((r) => r.path.startsWith(c.action.path));
    expect(sent).toEqual([]);
    expect((await ledgerObject(tenantId).entries({})).entries).toEqual([]);
  });
});
