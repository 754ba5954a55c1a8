/** The shapes of the catalog's generated data (contract.gen.ts, schedule.gen.ts) and of RunAPI's price schedule. */

export type FieldType = "string" | "integer" | "number" | "boolean" | "array" | "object";
export type Scalar = string | number | boolean;

/** What RunAPI's contract says of one request field (prose dropped). */
export interface FieldSpec {
  type: FieldType;
  required?: true;
  enum?: Scalar[];
  /** A number's range, or with `length` a string's length in characters. */
  min?: number;
  max?: number;
  length?: true;
  min_items?: number;
  max_items?: number;
  pattern?: string;
  default?: unknown;
  /** An array's items: a field, or an object with named properties. */
  items?: FieldSpec | { type: "object"; properties: Record<string, FieldSpec> };
}

/** A condition on a request: a field equals a value, or is present or absent. */
export type RuleCondition = Scalar | { present: boolean };

/** A cross-field rule: when every condition holds, these fields are required, forbidden or limited. */
export interface ContractRule {
  when?: Record<string, RuleCondition>;
  required?: string[];
  forbidden?: string[];
  required_any?: string[];
  enum?: Record<string, Scalar[]>;
}

/** One RunAPI action (`POST /api/v1/{service}/{action}`) and its models. */
export interface CompactAction {
  /** Service slug as in RunAPI's contract and schedule (`veo-3-1`); its path segment uses `_` (`veo_3_1`). */
  service: string;
  /** The endpoint (`text_to_video`). */
  action: string;
  /** The model line's display name ("Kling"). */
  line: string;
  /** Answered in the request (no task to track). */
  sync: boolean;
  /** The models a request may name; empty when the action takes none. */
  models: string[];
  /** Each model's (or "_"'s) field roster, as an index into `rosters`. */
  rosters: Record<string, number>;
  rules?: ContractRule[];
}

/** The generated catalog: field specs and rosters interned, actions referring to them by index. */
export interface CompactContract {
  as_of: string;
  source: string;
  specs: FieldSpec[];
  /** Lists of [field name, index into `specs`]. */
  rosters: [string, number][][];
  actions: CompactAction[];
}

/** A price's provenance: RunAPI publishes it, or this project supplies it until RunAPI does. */
export type PriceSource = "published" | "provisional";

/**
 * One price in RunAPI's schedule shape (`GET /api/v1/price_schedules`, runapi-ai/core-sdk `pricing.ts`),
 * plus the project's `source` and `note`. Prices are in (possibly fractional) cents, as RunAPI publishes them.
 */
export interface PriceSchedule {
  service: string;
  action: string;
  model: string | null;
  pricing_status?: string;
  catalog_status?: string;
  currency?: string;
  billing_unit?: string;
  billing_strategy?: string;
  unit_price_cents?: number | null;
  input_price_per_1m_cents?: number | null;
  output_price_per_1m_cents?: number | null;
  cache_read_price_per_1m_cents?: number | null;
  cache_write_price_per_1m_cents?: number | null;
  billing_config?: Record<string, unknown> | null;
  source?: PriceSource;
  note?: string;
}

/** The schedule bundled with the proxy, its offline default. */
export interface BundledSchedule {
  as_of: string;
  price_schedules: PriceSchedule[];
}
