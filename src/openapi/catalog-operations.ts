import { z } from "zod";
import { allActions, type CatalogAction } from "../catalog/catalog";
import { modelFields, overlayFor } from "../catalog/overlays";
import type { FieldSpec, Scalar } from "../catalog/types";
import type { ErrorCode } from "../lib/errors";
import { type Operation, TAGS } from "./operation";
import * as S from "./schemas";

const createErrors: ErrorCode[] = [
  "budget_exceeded",
  "idempotency_conflict",
  "rate_limited",
  "upstream_error",
  "upstream_unavailable",
  "upstream_timeout",
  "service_unavailable",
  "pricing_unavailable",
];

/** A contract field as a zod schema (for the document only: the catalog's own validator checks requests). */
function fieldSchema(spec: FieldSpec): z.ZodType {
  if (spec.enum?.length) {
    const values = spec.enum.map((v) => z.literal(v as Scalar));
    return values.length === 1 ? values[0]! : z.union(values as [z.ZodLiteral<Scalar>, z.ZodLiteral<Scalar>, ...z.ZodLiteral<Scalar>[]]);
  }
  switch (spec.type) {
    case "string": {
      let s = z.string();
      if (spec.length && spec.max !== undefined) s = s.max(spec.max);
      if (spec.length && spec.min !== undefined) s = s.min(spec.min);
      if (spec.pattern) s = s.regex(new RegExp(spec.pattern));
      return s;
    }
    case "integer":
    case "number": {
      let n = spec.type === "integer" ? z.number().int() : z.number();
      if (spec.min !== undefined) n = n.min(spec.min);
      if (spec.max !== undefined) n = n.max(spec.max);
      return n;
    }
    case "boolean":
      return z.boolean();
    case "array": {
      const items = spec.items;
      let a = z.array(
        !items
          ? z.unknown()
          : "properties" in items
            ? z.object(Object.fromEntries(Object.entries(items.properties).map(([k, v]) => [k, optional(v)])))
            : fieldSchema(items),
      );
      if (spec.min_items !== undefined) a = a.min(spec.min_items);
      if (spec.max_items !== undefined) a = a.max(spec.max_items);
      return a;
    }
    default:
      return z.record(z.string(), z.unknown());
  }
}

function optional(spec: FieldSpec): z.ZodType {
  return spec.required ? fieldSchema(spec) : fieldSchema(spec).optional();
}

/**
 * An action's create body for the document: every field any of its models takes (required where all require
 * it), `model` as an enum, and the tenant's own `callback_url`. Per-model differences are in the description.
 */
export function catalogBody(action: CatalogAction): z.ZodType {
  const overlay = overlayFor(action.service);
  // Each model's fields as validation sees them: the contract's, with the service's overlay on top.
  const rosters = action.models.length ? action.models.map((m) => modelFields(action, m)) : [modelFields(action, undefined)];
  const shape: Record<string, z.ZodType> = {};
  for (const fields of rosters) {
    for (const [name, spec] of fields) {
      if (name === "model" || name === "callback_url" || shape[name]) continue;
      const required = rosters.every((r) => r.get(name)?.required === true);
      shape[name] = required ? fieldSchema(spec) : fieldSchema(spec).optional();
    }
  }
  if (action.models.length && action.takesModel) {
    shape.model = z.enum(action.models as [string, ...string[]]);
  }
  shape.callback_url = z.url().max(2048).optional().describe("The tenant's own signed webhook for this task (secret keys only); never forwarded as is");
  const aliases = overlay?.aliases
    ? ` Legacy aliases accepted: ${Object.entries(overlay.aliases)
        .map(([a, c]) => `\`${a}\` → \`${c}\``)
        .join(", ")}.`
    : "";
  return z.object(shape).strict().describe(`Validated against RunAPI's contract for the model named; unknown fields are a 400 naming them.${aliases}`);
}

/** The create (or synchronous call) and the task read of every catalog action, at RunAPI's own paths. */
export function catalogOperations(): Operation[] {
  return allActions().flatMap((action): Operation[] => {
    const models = action.models.length ? ` Models: ${action.models.join(", ")}.` : "";
    const create: Operation = {
      method: "post",
      path: action.path,
      summary: `${action.line}: ${action.action.replaceAll("_", " ")}${action.sync ? " (answered at once)" : ""}`,
      description: action.sync
        ? `Synchronous: validated, priced, held, forwarded, and settled in the request (\`X-Charged-Usd\`).${models}`
        : `Validate → price from RunAPI's schedule → reserve against every budget → forward with the upstream key. Headers: \`X-Estimated-Cost-Usd\`, \`X-Budget-Remaining-Usd\`. An \`Idempotency-Key\` (≤ 512 chars) replays the first answer for 24 h. Beyond the tenant's share of RunAPI's capacity: \`429\` (\`details.reason: "upstream_capacity"\`), or with \`Prefer: respond-async, queue\` (or the tenant's \`queue\`) \`202\` with \`status: "queued"\`.${models}`,
      tag: TAGS.catalog,
      auth: "tenant",
      body: catalogBody(action),
      response: action.sync
        ? { description: "RunAPI's answer", schema: z.record(z.string(), z.unknown()) }
        : { description: "The task was accepted", schema: S.CreateResponse },
      errors: [...createErrors, "not_found"],
    };
    if (action.sync) return [create];
    return [
      create,
      {
        method: "get",
        path: `${action.path}/{id}`,
        summary: `${action.line}: read a ${action.action.replaceAll("_", " ")} task`,
        description: "From the tenant's own records, no upstream call. Another tenant's task is a 404.",
        tag: TAGS.catalog,
        auth: "tenant",
        params: { id: "The proxy's task id (a UUID)" },
        response: { description: "The task", schema: S.Task },
        errors: ["not_found"],
      },
    ];
  });
}
