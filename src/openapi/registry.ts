import type { z } from "zod";
import { KeyCreate, TenantCreate, TenantPatch } from "../routes/admin-schemas";
import { CONSOLE_OPERATIONS } from "./console-operations";
import type { Operation } from "./operation";
import { catalogOperations } from "./catalog-operations";
import { OPERATOR_OPERATIONS, SYSTEM_OPERATIONS } from "./operator-operations";
import * as S from "./schemas";
import { TENANT_OPERATIONS } from "./tenant-operations";
import { UPLOAD_OPERATIONS } from "./upload-operations";

export { type Auth, type Method, type Operation, TAGS } from "./operation";

/** Names under `components.schemas` for schemas used by reference. */
export const NAMED_SCHEMAS = new Map<z.ZodType, string>([
  [S.ErrorBody, "Error"],
  [S.Task, "Task"],
  [S.Tenant, "Tenant"],
  [S.Key, "Key"],
  [S.ScopeState, "BudgetState"],
  [S.PriceScheduleEntry, "PriceSchedule"],
  [TenantCreate, "TenantCreate"],
  [TenantPatch, "TenantPatch"],
  [KeyCreate, "KeyCreate"],
]);

/** Every route the app serves. Adding a route is one entry in one of these lists (the coverage test fails until it is). */
export const OPERATIONS: Operation[] = [
  ...catalogOperations(),
  ...TENANT_OPERATIONS,
  ...UPLOAD_OPERATIONS,
  ...OPERATOR_OPERATIONS,
  ...CONSOLE_OPERATIONS,
  ...SYSTEM_OPERATIONS,
];
