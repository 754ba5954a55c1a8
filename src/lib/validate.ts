import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env";
import { readJsonBody } from "./body";
import { invalidRequest, type FieldIssue } from "./errors";

/** zod issues as the API's field list (never zod's raw result); each unknown field is an issue under its own name. */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((i) => {
    const at = i.path.map(String).join(".");
    if (i.code === "unrecognized_keys") return i.keys.map((k) => ({ field: at ? `${at}.${k}` : k, message: "unknown field" }));
    return [{ field: at, message: i.message }];
  });
}

/** Reads the JSON body (size, type and syntax checked) and parses it with `schema`; a mismatch is a 400 listing each field. */
export async function parseBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const parsed = schema.safeParse(await readJsonBody(c));
  if (!parsed.success) throw invalidRequest(zodIssues(parsed.error));
  return parsed.data;
}

/** Parses query parameters with `schema`; a mismatch is a 400 listing each parameter. */
export function parseQuery<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalidRequest(zodIssues(parsed.error));
  return parsed.data;
}
