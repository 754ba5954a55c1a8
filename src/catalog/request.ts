/** The one request shape, from the route to the ledger, the task row, the upstream call and the simulator. */

/**
 * A validated, normalised request for one catalog action. `params` is the body RunAPI receives minus
 * `model` and `callback_url`: the client's fields under their canonical names (legacy aliases renamed),
 * nothing the client did not send except where an overlay says RunAPI must get an explicit value.
 */
export interface CatalogRequest {
  service: string;
  action: string;
  /** The model the request names (or the action's only model); null for an action that takes none. */
  model: string | null;
  params: Record<string, unknown>;
}

/** Fields that name an earlier task of the caller's: the proxy's id in, RunAPI's id out. */
export const TASK_REFERENCE_FIELDS: readonly string[] = ["source_task_id", "task_id"];

/** The JSON body RunAPI receives for a request (the caller adds the proxy's own `callback_url`). */
export function upstreamBody(req: CatalogRequest, takesModel: boolean): Record<string, unknown> {
  return takesModel && req.model !== null ? { model: req.model, ...req.params } : { ...req.params };
}

/** JSON with sorted keys, so equal requests hash equally whatever their field order or aliases. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
