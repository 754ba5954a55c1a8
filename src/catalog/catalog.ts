import { CONTRACT } from "./contract.gen";
import type { CompactAction, ContractRule, FieldSpec } from "./types";

/** What a request produces, for the archive, the demo's picker and `GET /api/v1/models`. */
export type Modality = "video" | "image" | "audio" | "utility";

/** One RunAPI action with its lookups resolved. */
export interface CatalogAction {
  /** RunAPI's service slug (`veo-3-1`), as its contract and price schedule name it. */
  service: string;
  /** The endpoint (`text_to_video`). */
  action: string;
  /** The model line's display name ("Veo 3.1"). */
  line: string;
  /** Answered in the request, no task to track. */
  sync: boolean;
  /** The models a request may name; empty when the action takes none (then its fields are the "_" roster's). */
  models: readonly string[];
  rules: readonly ContractRule[];
  modality: Modality;
  /** `/api/v1/{service with _}/{action}`, the path RunAPI's SDKs POST to. */
  path: string;
  /** Whether a request names its model in a `model` field (some single-model actions take none). */
  takesModel: boolean;
}

/** When RunAPI's contract was read and from where. */
export const CATALOG_AS_OF = CONTRACT.as_of;
export const CATALOG_SOURCE = CONTRACT.source;

/** The path segment of a service: RunAPI's SDKs turn `-` into `_` (`veo-3-1` → `veo_3_1`). */
export function routeSlug(service: string): string {
  return service.replaceAll("-", "_");
}

/** The contract's slug of a path segment or a slug in either spelling (`veo_3_1` and `veo-3-1` → `veo-3-1`). */
function serviceKey(service: string): string {
  return service.toLowerCase().replaceAll("_", "-");
}

/** What an action produces, from its name (an image edit is an image; lyrics or a seed are utility). */
export function modalityOf(action: string): Modality {
  if (/video|avatar|motion|animate|lip_sync/.test(action)) return "video";
  if (/image|background|character|artwork|layers|segment/.test(action)) return "image";
  if (/audio|music|speech|sound|voice|dialogue|stems|samples|vocal|instrumental/.test(action)) return "audio";
  return "utility";
}

const rosterCache = new Map<number, ReadonlyMap<string, FieldSpec>>();
function roster(index: number): ReadonlyMap<string, FieldSpec> {
  let fields = rosterCache.get(index);
  if (!fields) {
    fields = new Map(CONTRACT.rosters[index]!.map(([name, spec]) => [name, CONTRACT.specs[spec]!]));
    rosterCache.set(index, fields);
  }
  return fields;
}

const raw = new Map<CatalogAction, CompactAction>();
const byKey = new Map<string, CatalogAction>();
const byService = new Map<string, CatalogAction[]>();
const byModel = new Map<string, CatalogAction[]>();

for (const a of CONTRACT.actions) {
  const entry: CatalogAction = {
    service: a.service,
    action: a.action,
    line: a.line,
    sync: a.sync,
    models: a.models,
    rules: a.rules ?? [],
    modality: modalityOf(a.action),
    path: `/api/v1/${routeSlug(a.service)}/${a.action}`,
    takesModel: Object.values(a.rosters).some((i) => CONTRACT.rosters[i]!.some(([name]) => name === "model")),
  };
  raw.set(entry, a);
  byKey.set(`${a.service}/${a.action}`, entry);
  byService.set(a.service, [...(byService.get(a.service) ?? []), entry]);
  for (const m of a.models) byModel.set(m, [...(byModel.get(m) ?? []), entry]);
}

const ALL = [...byKey.values()];

/** Every action of the catalog. */
export function allActions(): readonly CatalogAction[] {
  return ALL;
}

/** An action by service (either spelling) and endpoint, or undefined. */
export function findAction(service: string, action: string): CatalogAction | undefined {
  return byKey.get(`${serviceKey(service)}/${action.toLowerCase().replaceAll("-", "_")}`);
}

/** The actions of a service (either spelling); empty for an unknown one. */
export function actionsOf(service: string): readonly CatalogAction[] {
  return byService.get(serviceKey(service)) ?? [];
}

/** The actions that serve a model. */
export function actionsOfModel(model: string): readonly CatalogAction[] {
  return byModel.get(model) ?? [];
}

/** Whether a service (either spelling) is in the catalog. */
export function isService(service: string): boolean {
  return byService.has(serviceKey(service));
}

/** The fields a model (or, for an action without models, "_") accepts on an action. */
export function fieldsFor(action: CatalogAction, model: string | null): ReadonlyMap<string, FieldSpec> {
  const rosters = raw.get(action)!.rosters;
  const index = rosters[model ?? "_"] ?? rosters[action.models[0] ?? "_"] ?? Object.values(rosters)[0];
  return index === undefined ? new Map() : roster(index);
}

/** Whether any model of the action accepts a field (a field no model takes is unknown, not merely "not for this model"). */
export function actionTakes(action: CatalogAction, field: string): boolean {
  return Object.values(raw.get(action)!.rosters).some((i) => roster(i).has(field));
}

/** Whether every model of the action requires a field. */
export function requiredByAll(action: CatalogAction, field: string): boolean {
  return Object.values(raw.get(action)!.rosters).every((i) => roster(i).get(field)?.required === true);
}

/** Counts for docs and tests: actions, services, model × action pairs (an action without models counts once). */
export function catalogSize(): { actions: number; services: number; pairs: number } {
  return { actions: ALL.length, services: byService.size, pairs: ALL.reduce((n, a) => n + Math.max(1, a.models.length), 0) };
}
