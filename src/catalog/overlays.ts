import { fieldsFor, type CatalogAction } from "./catalog";
import { HAILUO } from "./hailuo";
import type { ContractRule, FieldSpec } from "./types";

/**
 * A service's rules on top of RunAPI's contract, where the contract is looser than the service really is
 * (SPEC §2 for Hailuo): legacy aliases, stricter fields per model, cross-field checks, and the values
 * RunAPI must receive explicitly so it renders exactly what was priced.
 */
export interface Overlay {
  /** Legacy field name → canonical name. */
  aliases?: Record<string, string>;
  /** How a value sent under a legacy name becomes a canonical value ("6" → 6, "768P" → "768p"). */
  normaliseAlias?: Record<string, (value: unknown) => unknown>;
  /** A legacy model id → the canonical one. */
  normaliseModel?(model: string): string;
  /** Fields replaced (a stricter spec) or removed (null) for a model; `undefined` model: the model is not known yet. */
  fields?(model: string | undefined): Record<string, FieldSpec | null> | undefined;
  /** Why a field is not accepted for a model, in words. */
  notAccepted?(model: string, field: string): string | undefined;
  /** Checks the contract cannot express. */
  check?(model: string, params: Record<string, unknown>, issue: (field: string, message: string) => void): void;
  /** The cross-field rules `check` holds a model to, as data in the contract's shape (for forms that offer only valid choices). */
  rules?(model: string): ContractRule[];
  /** The values the request will be rendered with (defaults that depend on other fields). */
  effective?(model: string, params: Record<string, unknown>): Record<string, unknown>;
  /** The params RunAPI receives, from what was sent and what is effective. */
  upstream?(model: string, sent: Record<string, unknown>, effective: Record<string, unknown>): Record<string, unknown>;
}

const OVERLAYS: Record<string, Overlay> = { hailuo: HAILUO };

/** The overlay of a service (contract slug), if it has one. */
export function overlayFor(service: string): Overlay | undefined {
  return OVERLAYS[service];
}

/** The fields a request for a model is validated against: the contract's roster with the service's overlay applied. */
export function modelFields(action: CatalogAction, model: string | undefined): ReadonlyMap<string, FieldSpec> {
  const fields = fieldsFor(action, model ?? null);
  const extra = overlayFor(action.service)?.fields?.(model);
  if (!extra) return fields;
  const merged = new Map(fields);
  for (const [key, spec] of Object.entries(extra)) {
    if (spec === null) merged.delete(key);
    else merged.set(key, spec);
  }
  return merged;
}
