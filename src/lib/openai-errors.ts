import type { Context } from "hono";
import type { AppEnv } from "../env";
import { handleError } from "./errors";

/** OpenAI's error `type` for each status, added beside the proxy's own `code` on /v1/*. */
const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "not_found_error",
  409: "conflict_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
};

/**
 * The error on /v1/* (SPEC §8): the proxy's error object plus OpenAI's `type`, so OpenAI clients read it; a 402
 * also carries OpenAI's `code: "insufficient_quota"` with the proxy's own as `proxy_code`.
 */
export async function openAiError(err: Error, c: Context<AppEnv>): Promise<Response> {
  const res = handleError(err, c);
  const body = (await res.json()) as { error: Record<string, unknown> };
  body.error.type = OPENAI_TYPES[res.status] ?? "server_error";
  if (res.status === 402) body.error = { ...body.error, code: "insufficient_quota", proxy_code: body.error.code };
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: res.status, headers });
}
