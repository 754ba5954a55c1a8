import type { z } from "zod";
import type { ErrorCode } from "../lib/errors";

/** Who may call an operation: a tenant key, the operator's admin token, RunAPI's signed callback URL, or anyone. */
export type Auth = "tenant" | "admin" | "callback" | "none";
export type Method = "get" | "post" | "put" | "patch" | "delete";

/** One documented operation. Request schemas are the zod objects the route validates with. */
export interface Operation {
  method: Method;
  /** OpenAPI path: `{name}` for parameters. */
  path: string;
  summary: string;
  description?: string;
  tag: Tag;
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The request body's media type (default JSON). */
  bodyContentType?: string;
  /** The success response (200 unless `status` says). `contentType` defaults to JSON. */
  response: { status?: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error codes this operation answers with besides those its auth and body imply. */
  errors?: ErrorCode[];
  /** Path parameter descriptions. */
  params?: Record<string, string>;
}

export const TAGS = {
  catalog: "RunAPI models (drop-in)",
  tasks: "Tasks",
  account: "Account and prices",
  openai: "OpenAI-compatible",
  mcp: "MCP",
  uploads: "Uploads (RunAPI's files)",
  operator: "Operator",
  pages: "Pages",
  system: "System",
} as const;
export type Tag = (typeof TAGS)[keyof typeof TAGS];
