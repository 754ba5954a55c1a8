import { describe, expect, it } from "vitest";
import { periodWindow } from "../src/domain/periods";

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const window = (period: Parameters<typeof periodWindow>[0], at: string) => {
  const w = periodWindow(period, t(at));
  return { start: iso(w.start), resetsAt: iso(w.resetsAt) };
};

describe("periodWindow", () => {
  it("day: the UTC day, start included, reset excluded", () => {
    expect(window("day", "2026-03-10T13:45:00.000Z")).toEqual({ start: "2026-03-10T00:00:00.000Z", resetsAt: "2026-03-11T00:00:00.000Z" });
    expect(window("day", "2026-03-10T23:59:59.999Z").start).toBe("2026-03-10T00:00:00.000Z");
    expect(window("day", "2026-03-11T00:00:00.000Z").start).toBe("2026-03-11T00:00:00.000Z");
  });

  it("week: starts Monday 00:00 UTC; Sunday 23:59:59.999 is still the old week", () => {
    // 2026-03-15 is a Sunday, 2026-03-16 a Monday.
    expect(window("week", "2026-03-15T23:59:59.999Z")).toEqual({ start: "2026-03-09T00:00:00.000Z", resetsAt: "2026-03-16T00:00:00.000Z" });
    expect(window("week", "2026-03-16T00:00:00.000Z")).toEqual({ start: "2026-03-16T00:00:00.000Z", resetsAt: "2026-03-23T00:00:00.000Z" });
    expect(window("week", "2026-03-18T12:00:00.000Z").start).toBe("2026-03-16T00:00:00.000Z");
  });

  it("week: across a month and a year end", () => {
    // 2025-12-29 is a Monday; 2026-01-04 a Sunday.
    expect(window("week", "2026-01-01T08:00:00.000Z")).toEqual({ start: "2025-12-29T00:00:00.000Z", resetsAt: "2026-01-05T00:00:00.000Z" });
    expect(window("week", "2026-01-04T23:59:59.999Z").start).toBe("2025-12-29T00:00:00.000Z");
    expect(window("week", "2026-01-05T00:00:00.000Z").start).toBe("2026-01-05T00:00:00.000Z");
  });

  it("month: starts on the 1st; February in leap and common years; 30- and 31-day months", () => {
    expect(window("month", "2024-02-29T23:59:59.999Z")).toEqual({ start: "2024-02-01T00:00:00.000Z", resetsAt: "2024-03-01T00:00:00.000Z" });
    expect(window("month", "2024-03-01T00:00:00.000Z").start).toBe("2024-03-01T00:00:00.000Z");
    expect(window("month", "2026-02-28T23:59:59.999Z")).toEqual({ start: "2026-02-01T00:00:00.000Z", resetsAt: "2026-03-01T00:00:00.000Z" });
    expect(window("month", "2026-04-30T23:59:59.999Z").resetsAt).toBe("2026-05-01T00:00:00.000Z");
    expect(window("month", "2026-05-31T23:59:59.999Z").resetsAt).toBe("2026-06-01T00:00:00.000Z");
  });

  it("month, day and week: year end", () => {
    expect(window("month", "2025-12-31T23:59:59.999Z")).toEqual({ start: "2025-12-01T00:00:00.000Z", resetsAt: "2026-01-01T00:00:00.000Z" });
    expect(window("month", "2026-01-01T00:00:00.000Z").start).toBe("2026-01-01T00:00:00.000Z");
    expect(window("day", "2025-12-31T23:59:59.999Z").resetsAt).toBe("2026-01-01T00:00:00.000Z");
  });

  it("total: starts at 0, never resets", () => {
    expect(periodWindow("total", t("2026-03-10T13:45:00.000Z"))).toEqual({ start: 0, resetsAt: null });
  });

  it("every window contains its instant", () => {
    for (let ms = t("2023-12-25T00:00:00Z"); ms < t("2024-03-10T00:00:00Z"); ms += 3_600_000 * 7 + 59_999) {
      for (const p of ["day", "week", "month"] as const) {
        const w = periodWindow(p, ms);
        expect(w.start).toBeLessThanOrEqual(ms);
        expect(w.resetsAt).toBeGreaterThan(ms);
      }
      expect(new Date(periodWindow("week", ms).start).getUTCDay()).toBe(1);
    }
  });

  it("rejects a clock that is not an integer of ms", () => {
    expect(() => periodWindow("day", Number.NaN)).toThrow(RangeError);
    expect(() => periodWindow("day", 1.5)).toThrow(RangeError);
  });
});
