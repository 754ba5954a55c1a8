import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { formatUsd } from "../domain/money";
import { visibleScopes, tenantMarkup } from "../domain/tenant";
import { base64BodyLimit, handedUrlProblem, isUploadId, MAX_UPLOAD_ID_LENGTH, partBodyLimit } from "../domain/uploads";
import { uploadCall, type UploadCall } from "../durable-objects/upload-flow";
import { forwardableBody } from "../lib/body";
import { AppError } from "../lib/errors";
import { openAiError } from "../lib/openai-errors";
import { uploadPrice } from "../lib/pricing";
import { parseBody } from "../lib/validate";
import { tenantAuth } from "../middleware/auth";
import { RunApiClient } from "../upstream/runapi";

/** A streamed body (a whole file) may take this long to reach RunAPI and be answered, at least. */
const STREAMED_UPLOAD_TIMEOUT_MS = 120_000;
const JSON_TYPE = "application/json";

const fileName = z.string().min(1).max(255);

/** `POST /api/v1/files/prepare`, as RunAPI's core SDK sends it (`files.ts`). */
export const PrepareRequest = z.strictObject({
  filename: fileName,
  byte_size: z.number().int().nonnegative(),
  checksum: z.string().min(1).max(200).optional().describe("The bytes' MD5, base64 (the SDK sends it)"),
  content_type: z.string().min(1).max(255).optional(),
});
/** `POST /api/v1/files/confirm`. */
export const ConfirmRequest = z.strictObject({ signed_id: z.string().min(1).max(MAX_UPLOAD_ID_LENGTH) });
/** `POST /v1/uploads`, as RunAPI's core SDK sends it (`uploads.ts`). */
export const UploadCreateRequest = z.strictObject({
  bytes: z.number().int().nonnegative(),
  filename: fileName,
  mime_type: z.string().min(1).max(255),
  purpose: z.literal("user_data").optional(),
});
/** `POST /v1/uploads/{id}/complete`. */
export const UploadCompleteRequest = z.strictObject({
  part_ids: z.array(z.string().min(1).max(MAX_UPLOAD_ID_LENGTH)).min(1).max(10_000),
  md5: z.string().min(1).max(200).optional(),
});

/** Runs one upload call and answers RunAPI's JSON with the proxy's headers. */
async function answer(c: Context<AppEnv>, call: Omit<UploadCall, "auth">): Promise<Response> {
  const result = await uploadCall(c.env, (p) => c.executionCtx.waitUntil(p), { ...call, auth: c.var.auth }, c.var.requestId);
  for (const [name, value] of Object.entries(result.headers)) c.header(name, value);
  const visible = visibleScopes(c.var.auth, result.budgets);
  if (visible.length) c.header("X-Budget-Remaining-Usd", formatUsd(Math.min(...visible.map((b) => b.remaining_micros))));
  return c.json(result.body);
}

/** The price of a call that makes a file, in the caller's tenant's terms (free unless the schedule prices uploads). */
async function filePrice(c: Context<AppEnv>) {
  const price = await uploadPrice(c.env.TENANTS, tenantMarkup(c.var.auth.tenant));
  c.header("X-Estimated-Cost-Usd", formatUsd(price.micros));
  return price;
}

const client = (c: Context<AppEnv>) => new RunApiClient(c.var.config, c.env.RUNAPI);
const streamedTimeout = (c: Context<AppEnv>) => Math.max(c.var.config.upstreamTimeoutMs, STREAMED_UPLOAD_TIMEOUT_MS);

/** A file announced larger than the deployment takes is refused before anything reaches RunAPI. */
function checkAnnounced(c: Context<AppEnv>, bytes: number): void {
  const max = c.var.config.uploadMaxBytes;
  if (bytes > max) throw new AppError("payload_too_large", `Files are limited to ${max} bytes (this one announces ${bytes})`, { max_bytes: max });
}

/** A path's upload id; one that cannot be RunAPI's is nobody's (404). */
function uploadIdOf(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!isUploadId(id)) throw new AppError("not_found", "No such upload");
  return id;
}

/**
 * RunAPI's file endpoints (`/api/v1/files…`, SPEC §12) with the tenant's key swapped for the upstream key: a whole
 * file from a URL or base64 (the body streamed on, bounded by `UPLOAD_MAX_BYTES` as base64), and the direct upload:
 * `prepare` (answers RunAPI's `upload_url`, where the client PUTs the bytes itself) → `confirm`.
 */
export const files = new Hono<AppEnv>()
  .post("/", tenantAuth, async (c) => {
    if (!/^application\/(.+\+)?json\b/i.test((c.req.header("content-type") ?? "").trim())) {
      throw new AppError("unsupported_media_type", "Content-Type must be application/json", { content_type: c.req.header("content-type") ?? null });
    }
    const body = await forwardableBody(c, base64BodyLimit(c.var.config.uploadMaxBytes));
    if (!body) throw new AppError("invalid_request", "Request body is empty");
    const price = await filePrice(c);
    return answer(c, { price, forward: () => client(c).upload("/api/v1/files", body, JSON_TYPE, streamedTimeout(c)) });
  })
  .post("/prepare", tenantAuth, async (c) => {
    const req = await parseBody(c, PrepareRequest);
    checkAnnounced(c, req.byte_size);
    const { config } = c.var;
    return answer(c, {
      opens: "file",
      forward: async () => {
        const prepared = await client(c).upload("/api/v1/files/prepare", JSON.stringify(req), JSON_TYPE);
        const problem = handedUrlProblem(prepared.upload_url, new URL(config.runapiBaseUrl).origin, {
          allowHttp: config.allowHttpUrls,
          allowPrivate: config.allowPrivateUrls,
        });
        if (problem) throw new AppError("upstream_error", `RunAPI handed over an upload_url that ${problem}`);
        return prepared;
      },
    });
  })
  .post("/confirm", tenantAuth, async (c) => {
    const req = await parseBody(c, ConfirmRequest);
    const price = await filePrice(c);
    return answer(c, {
      price,
      upload: { kind: "file", id: req.signed_id },
      forward: () => client(c).upload("/api/v1/files/confirm", JSON.stringify(req), JSON_TYPE),
    });
  });

/**
 * RunAPI's OpenAI-style multipart uploads (`/v1/uploads…`, SPEC §12) with the tenant's key swapped: create, parts
 * (the multipart body streamed on, bounded by `UPLOAD_MAX_BYTES`), complete, cancel. Only the caller that created
 * an upload may go on with it. Errors carry OpenAI's `type`, as everywhere on /v1.
 */
export const uploads = new Hono<AppEnv>()
  .post("/", tenantAuth, async (c) => {
    const req = await parseBody(c, UploadCreateRequest);
    checkAnnounced(c, req.bytes);
    return answer(c, { opens: "upload", forward: () => client(c).upload("/v1/uploads", JSON.stringify(req), JSON_TYPE) });
  })
  .post("/:id/parts", tenantAuth, async (c) => {
    const id = uploadIdOf(c);
    const type = c.req.header("content-type") ?? "";
    if (!/^multipart\/form-data\s*;\s*boundary=/i.test(type.trim())) {
      throw new AppError("unsupported_media_type", "Content-Type must be multipart/form-data with the part as field data", { content_type: type || null });
    }
    const body = await forwardableBody(c, partBodyLimit(c.var.config.uploadMaxBytes));
    if (!body) throw new AppError("invalid_request", "Request body is empty");
    return answer(c, {
      upload: { kind: "upload", id },
      forward: () => client(c).upload(`/v1/uploads/${encodeURIComponent(id)}/parts`, body, type, streamedTimeout(c)),
    });
  })
  .post("/:id/complete", tenantAuth, async (c) => {
    const id = uploadIdOf(c);
    const req = await parseBody(c, UploadCompleteRequest);
    const price = await filePrice(c);
    return answer(c, {
      price,
      upload: { kind: "upload", id },
      forward: () => client(c).upload(`/v1/uploads/${encodeURIComponent(id)}/complete`, JSON.stringify(req), JSON_TYPE),
    });
  })
  .post("/:id/cancel", tenantAuth, async (c) => {
    const id = uploadIdOf(c);
    return answer(c, { upload: { kind: "upload", id }, forward: () => client(c).upload(`/v1/uploads/${encodeURIComponent(id)}/cancel`, "{}", JSON_TYPE) });
  })
  .onError(openAiError);
