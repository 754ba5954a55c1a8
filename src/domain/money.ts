/**
 * Money is integer micro-dollars (1 USD = 1 000 000 µ$) everywhere inside.
 * Floats appear only at the HTTP edge: parsed once into micros, shown once as USD.
 */
export type Micros = number;

export const MICROS_PER_USD = 1_000_000;
export const MICROS_PER_CENT = 10_000;

/** USD (a JSON number) → integer micros, rounded half away from zero at the 6th decimal. */
export function usdToMicros(usd: number): Micros {
  if (!Number.isFinite(usd)) throw new RangeError("amount must be a finite number");
  const micros = Math.sign(usd) * Math.round(Math.abs(usd) * MICROS_PER_USD);
  if (!Number.isSafeInteger(micros)) throw new RangeError("amount out of range");
  return micros === 0 ? 0 : micros;
}

/** Cents as RunAPI reports them (possibly fractional) → integer micros. */
export function centsToMicros(cents: number): Micros {
  if (!Number.isFinite(cents) || cents < 0) throw new RangeError("cents must be a non-negative finite number");
  return Math.round(cents * MICROS_PER_CENT);
}

/** Integer micros → USD for JSON output (exact to 6 decimals). */
export function microsToUsd(micros: Micros): number {
  if (!Number.isSafeInteger(micros)) throw new RangeError("micros must be a safe integer");
  return micros / MICROS_PER_USD;
}

/** Integer micros → a fixed 6-decimal USD string, for headers and CSV. */
export function formatUsd(micros: Micros): string {
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / MICROS_PER_USD)}.${String(abs % MICROS_PER_USD).padStart(6, "0")}`;
}
