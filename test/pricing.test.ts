import { describe, expect, it } from "vitest";
import { validCombinations, type ModelId } from "../src/domain/hailuo";
import { DEFAULT_PRICE_TABLE, findPrice, parsePriceTable, priceTableJson, type PriceCell } from "../src/domain/pricing";

const T2V_STD = "hailuo-02-text-to-video-standard";
const T2V_PRO = "hailuo-02-text-to-video-pro";
const I2V_STD = "hailuo-02-image-to-video-standard";
const I2V_PRO = "hailuo-02-image-to-video-pro";
const V23_STD = "hailuo-2.3-image-to-video-standard";
const V23_PRO = "hailuo-2.3-image-to-video-pro";

/** The default table's JSON, deep-copied so a test can break it. */
function defaultJson() {
  return structuredClone(priceTableJson(DEFAULT_PRICE_TABLE)) as { currency: string; prices: Array<Record<string, unknown>> };
}

function rejected(input: unknown) {
  const result = parsePriceTable(input);
  if (result.ok) throw new Error("expected the table to be rejected");
  return result.issues;
}

describe("DEFAULT_PRICE_TABLE", () => {
  it.each([
    [T2V_STD, 6, "768p", 300_000, "published"],
    [T2V_STD, 10, "768p", 500_000, "published"],
    [T2V_PRO, 6, "1080p", 600_000, "provisional"],
    [I2V_STD, 6, "512p", 120_000, "published"],
    [I2V_STD, 10, "512p", 200_000, "provisional"],
    [I2V_STD, 6, "768p", 300_000, "provisional"],
    [I2V_STD, 10, "768p", 500_000, "provisional"],
    [I2V_PRO, 6, "1080p", 600_000, "provisional"],
    [V23_STD, 6, "768p", 500_000, "published"],
    [V23_STD, 10, "768p", 1_000_000, "provisional"],
    [V23_STD, 6, "1080p", 900_000, "provisional"],
    [V23_PRO, 6, "768p", 900_000, "provisional"],
    [V23_PRO, 10, "768p", 1_600_000, "provisional"],
    [V23_PRO, 6, "1080p", 1_000_000, "provisional"],
  ] as const)("prices %s %i s %s at %i µ$ (%s)", (model, duration_seconds, output_resolution, micros, source) => {
    const cell = findPrice(DEFAULT_PRICE_TABLE, { model, duration_seconds, output_resolution });
    expect(cell?.price_micros).toBe(micros);
    expect(cell?.source).toBe(source);
    expect(Number.isSafeInteger(cell?.price_micros)).toBe(true);
  });

  it("has exactly one cell per valid combination and nothing else", () => {
    expect(DEFAULT_PRICE_TABLE).toHaveLength(validCombinations().length);
    const keys = DEFAULT_PRICE_TABLE.map((c) => `${c.model} ${c.duration_seconds} ${c.output_resolution}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(DEFAULT_PRICE_TABLE.map((c) => [c.model, c.duration_seconds, c.output_resolution, c]))(
    "names the source of %s %i s %s in a note",
    (_m, _d, _r, cell) => {
      const { source, note } = cell as PriceCell;
      expect(note).toBeTruthy();
      if (source === "published") expect(note).toMatch(/RunAPI/);
      else expect(note).toMatch(/provisional/);
    },
  );
});

describe("findPrice", () => {
  it.each(validCombinations().map((c) => [c.model, c.duration_seconds, c.output_resolution, c]))(
    "finds a price for %s %i s %s in the default table",
    (_m, _d, _r, combo) => {
      const cell = findPrice(DEFAULT_PRICE_TABLE, combo as ReturnType<typeof validCombinations>[number]);
      expect(cell).toMatchObject(combo as object);
    },
  );

  it.each([
    [T2V_PRO, 10, "1080p"],
    [V23_PRO, 10, "1080p"],
    [I2V_STD, 6, "1080p"],
  ] as const)("finds nothing for the impossible %s %i s %s", (model, duration_seconds, output_resolution) => {
    expect(findPrice(DEFAULT_PRICE_TABLE, { model, duration_seconds, output_resolution })).toBeUndefined();
  });

  it("finds nothing in an empty table", () => {
    expect(findPrice([], { model: T2V_STD, duration_seconds: 6, output_resolution: "768p" })).toBeUndefined();
  });
});

describe("priceTableJson", () => {
  it("shows USD numbers with provenance", () => {
    const json = priceTableJson(DEFAULT_PRICE_TABLE);
    expect(json.currency).toBe("USD");
    expect(json.prices[0]).toEqual({
      model: T2V_STD,
      duration_seconds: 6,
      output_resolution: "768p",
      price_usd: 0.3,
      source: "published",
      note: "RunAPI Hermes×Hailuo page",
    });
    expect(json.prices.map((p) => p.price_usd)).toEqual([0.3, 0.5, 0.6, 0.12, 0.2, 0.3, 0.5, 0.6, 0.5, 1, 0.9, 0.9, 1.6, 1]);
  });

  it("leaves note out when a cell has none", () => {
    const json = priceTableJson([{ model: T2V_PRO, duration_seconds: 6, output_resolution: "1080p", price_micros: 1, source: "published" }]);
    expect(json.prices[0]).toStrictEqual({ model: T2V_PRO, duration_seconds: 6, output_resolution: "1080p", price_usd: 0.000001, source: "published" });
  });
});

describe("parsePriceTable", () => {
  it("round-trips priceTableJson(DEFAULT_PRICE_TABLE)", () => {
    const result = parsePriceTable(JSON.parse(JSON.stringify(priceTableJson(DEFAULT_PRICE_TABLE))));
    expect(result).toEqual({ ok: true, table: DEFAULT_PRICE_TABLE });
  });

  it("orders the table canonically whatever order the operator sends", () => {
    const json = defaultJson();
    json.prices.reverse();
    const result = parsePriceTable(json);
    expect(result.ok && result.table).toEqual(DEFAULT_PRICE_TABLE);
  });

  it("converts USD to exact micro-dollars, 6 decimals included", () => {
    const json = defaultJson();
    json.prices[0]!.price_usd = 0.123457;
    json.prices[1]!.price_usd = 0;
    json.prices[2]!.price_usd = 12.5;
    const result = parsePriceTable(json);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.table.slice(0, 3).map((c) => c.price_micros)).toEqual([123_457, 0, 12_500_000]);
  });

  it("defaults a cell's source to \"published\" (the operator's own price) and keeps an explicit one", () => {
    const json = defaultJson();
    for (const p of json.prices) {
      delete p.source;
      delete p.note;
    }
    json.prices[3]!.source = "provisional";
    const result = parsePriceTable(json);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.table.map((c) => c.source)).toEqual(result.table.map((_c, i) => (i === 3 ? "provisional" : "published")));
    expect(result.table.every((c) => c.note === undefined)).toBe(true);
  });

  it("accepts a table without currency", () => {
    const json = defaultJson() as Record<string, unknown>;
    delete json.currency;
    expect(parsePriceTable(json).ok).toBe(true);
  });

  it.each([
    ["null", null],
    ["an array", []],
    ["a string", "0.30"],
    ["a number", 1],
  ])("rejects %s", (_name, input) => {
    expect(rejected(input)).toEqual([{ field: "", message: 'must be a JSON object {"currency":"USD","prices":[…]}' }]);
  });

  it.each([
    ["missing", undefined],
    ["an object", {}],
    ["a string", "x"],
  ])("rejects prices that is %s", (_name, prices) => {
    expect(rejected({ currency: "USD", prices })).toEqual([{ field: "prices", message: "must be an array of price cells" }]);
  });

  it("rejects a currency other than USD", () => {
    expect(rejected({ ...defaultJson(), currency: "EUR" })).toEqual([{ field: "currency", message: 'must be "USD"' }]);
  });

  it("rejects unknown top-level fields", () => {
    expect(rejected({ ...defaultJson(), markup: 1.2 })).toEqual([{ field: "markup", message: "unknown field" }]);
  });

  it.each(validCombinations().map((c, i) => [c.model, c.duration_seconds, c.output_resolution, i]))(
    "rejects a table missing %s %i s %s",
    (model, duration, resolution, index) => {
      const json = defaultJson();
      json.prices.splice(index as number, 1);
      expect(rejected(json)).toEqual([{ field: "prices", message: `missing price for ${model} ${duration} s ${resolution}` }]);
    },
  );

  it("rejects an empty table with one issue per missing cell", () => {
    expect(rejected({ currency: "USD", prices: [] })).toHaveLength(validCombinations().length);
  });

  it("rejects an unknown model", () => {
    const json = defaultJson();
    json.prices.push({ model: "hailuo-03-ultra", duration_seconds: 6, output_resolution: "768p", price_usd: 1 });
    expect(rejected(json)).toEqual([
      { field: "prices[14].model", message: expect.stringMatching(/^unknown model; models are hailuo-02-text-to-video-standard, /) },
    ]);
  });

  it("rejects the legacy model spelling (tables use canonical ids)", () => {
    const json = defaultJson();
    json.prices[8]!.model = "hailuo-2-3-image-to-video-standard";
    expect(rejected(json).map((i) => i.field)).toEqual(["prices[8].model", "prices"]);
  });

  it.each([
    [T2V_PRO, 10, "1080p"],
    [V23_PRO, 10, "1080p"],
    [I2V_STD, 6, "1080p"],
    [T2V_STD, 6, "512p"],
    [T2V_STD, 8, "768p"],
  ] as const)("rejects a cell for the impossible %s %i s %s", (model, duration_seconds, output_resolution) => {
    const json = defaultJson();
    json.prices.push({ model, duration_seconds, output_resolution, price_usd: 1 });
    expect(rejected(json)).toEqual([{ field: "prices[14]", message: `${model} has no ${duration_seconds} s ${output_resolution} option` }]);
  });

  it("rejects a duplicate cell, naming the first", () => {
    const json = defaultJson();
    json.prices.push({ ...json.prices[2]!, price_usd: 0.01 });
    expect(rejected(json)).toEqual([{ field: "prices[14]", message: "duplicate of prices[2]" }]);
  });

  it.each([
    ["negative", -0.01, "must be ≥ 0"],
    ["7 decimals", 0.1234567, "must have at most 6 decimals"],
    ["a micro-cent", 0.0000001, "must have at most 6 decimals"],
    ["a string", "0.30", "must be a number (USD)"],
    ["missing", undefined, "must be a number (USD)"],
    ["null", null, "must be a number (USD)"],
    ["too large for micro-dollars", 1e12, "is too large"],
  ])("rejects a price that is %s", (_name, price, message) => {
    const json = defaultJson();
    json.prices[5]!.price_usd = price;
    expect(rejected(json)).toEqual([{ field: "prices[5].price_usd", message }]);
  });

  it.each([
    ["source", "estimated", "prices[4].source", 'must be "published" or "provisional"'],
    ["note", 42, "prices[4].note", "must be a string of at most 500 characters"],
    ["note", "n".repeat(501), "prices[4].note", "must be a string of at most 500 characters"],
    ["price", 0.3, "prices[4].price", "unknown field"],
    ["duration_seconds", "6", "prices[4].duration_seconds", "must be a number of seconds"],
    ["output_resolution", 768, "prices[4].output_resolution", "must be a string such as 768p"],
  ])("rejects a cell whose %s is %j", (key, value, field, message) => {
    const json = defaultJson();
    json.prices[4]![key] = value;
    const found = rejected(json);
    expect(found[0]).toEqual({ field, message });
  });

  it("rejects a cell that is not an object", () => {
    const json = defaultJson();
    json.prices[0] = "0.30" as unknown as Record<string, unknown>;
    expect(rejected(json)).toEqual([
      { field: "prices[0]", message: "must be an object" },
      { field: "prices", message: `missing price for ${T2V_STD as ModelId} 6 s 768p` },
    ]);
  });

  it("reports every problem at once", () => {
    const json = defaultJson();
    json.prices[0]!.price_usd = -1;
    json.prices[1]!.price_usd = 0.0000005;
    json.prices[2]!.model = "nope";
    expect(rejected(json).map((i) => i.field)).toEqual(["prices[0].price_usd", "prices[1].price_usd", "prices[2].model", "prices"]);
  });
});
