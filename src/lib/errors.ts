import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";

/** Every error code the API answers with, and its HTTP status (SPEC §3). */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  budget_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 500,
  upstream_error: 502,
  upstream_unavailable: 503,
  service_unavailable: 503,
  pricing_unavailable: 503,
  upstream_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One bad field of a request: where it is and what is wrong with it. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The error every handler throws; `onError` turns it into the one error body. */
export class AppError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
  }
}

/** A 400 that lists each bad field. */
export function invalidRequest(issues: FieldIssue[], message?: string): AppError {
  const summary = message ?? issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
  return new AppError("invalid_request", summary || "Invalid request", { issues });
}

/** The SPEC §3 error body. */
export function errorBody(code: string, message: string, requestId: string, details?: Record<string, unknown>) {
  return { error: { code, message, request_id: requestId, ...(details ? { details } : {}) } };
}

const HTTP_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** The app's one onError: AppError → its status, HTTPException → mapped code, anything else → logged generic 500. */
export function handleError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? "unknown";
  if (err instanceof AppError) {
    if (err.status >= 500) console.error(JSON.stringify({ level: "error", request_id: requestId, code: err.code, message: err.message }));
    return c.json(errorBody(err.code, err.message, requestId, err.details), err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[err.status] ?? "internal_error";
    const status = ERROR_STATUS[code];
    return c.json(errorBody(code, err.message || code.replace(/_/g, " "), requestId), status);
  }
  // Unknown errors may carry anything (a URL, a header): log the name and stack only, answer generically.
  console.error(JSON.stringify({ level: "error", request_id: requestId, error: err?.name, stack: err?.stack?.split("\n").slice(0, 4).join(" | ") }));
  return c.json(errorBody("internal_error", "Internal error", requestId), 500);
}
