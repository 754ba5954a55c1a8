import type { Config } from "../env";
import { AppError } from "../lib/errors";
import { readText, UpstreamBodyError } from "./read";

/** A task as RunAPI reports it on a status GET or a callback. */
export interface UpstreamTask {
  id: string;
  status: "pending" | "processing" | "completed" | "failed";
  videos?: { url: string }[];
  error?: { code: string; message: string };
  cost_cents?: number;
  /** Everything else the task carries (outputs of every modality: `images`, `audios`, `video_url`, …), kept for its readers. */
  result?: Record<string, unknown>;
}

const USER_AGENT = "runapi-edge-proxy/0.1";
/** RunAPI's upload refusals that are the client's to hear as they are: an unknown id, a state conflict, a file too large. */
const UPLOAD_ERRORS: Partial<Record<number, "not_found" | "conflict" | "payload_too_large">> = { 404: "not_found", 409: "conflict", 413: "payload_too_large" };
const UPSTREAM_STATUSES = new Set(["pending", "processing", "completed", "failed"]);
const MAX_COST_CENTS = 1_000_000; // $10 000 for one clip
/** Fields of RunAPI's task the proxy answers itself; the rest is the task's result. */
const TASK_META = new Set(["id", "task_id", "status", "error", "cost_cents", "callback_url", "model", "created_at", "updated_at"]);
/** The most of a task's result the proxy keeps (serialized); a larger one keeps its URLs only. */
export const MAX_RESULT_CHARS = 64 * 1024;

/**
 * The RunAPI client: the one place that knows RunAPI's paths, auth and error shapes.
 * It sends only the upstream key and the headers it chose, never a client's credentials.
 */
export class RunApiClient {
  constructor(
    private readonly config: Config,
    /** The simulator's service binding in tests and `npm start`; the network otherwise. */
    private readonly fetcher: { fetch: typeof fetch } = globalThis,
  ) {}

  /** Creates a task at an action's path. Retries a network failure or 5xx at most twice (safe: RunAPI dedupes on Idempotency-Key). */
  async createTask(path: string, body: Record<string, unknown>, idempotencyKey: string): Promise<{ id: string }> {
    const init = { method: "POST", body: JSON.stringify(body), headers: { "Idempotency-Key": idempotencyKey } };
    let attempt = 0;
    for (;;) {
      try {
        const json = await this.request(path, init);
        const id = typeof json.id === "string" ? json.id : typeof json.task_id === "string" ? json.task_id : null;
        if (!id) throw new AppError("upstream_error", "RunAPI answered a create without a task id");
        return { id };
      } catch (err) {
        const retryable = err instanceof AppError && (err.code === "upstream_error" || err.code === "upstream_unavailable") && err.details?.retryable === true;
        if (!retryable || attempt >= 2) throw err;
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, this.config.upstreamRetryBaseMs * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Calls a synchronous action (answered in the request) once, with an Idempotency-Key; RunAPI's JSON answer as it is.
   * Not retried: the answer is the result, and a second call could be a second charge.
   */
  async callSync(path: string, body: Record<string, unknown>, idempotencyKey: string): Promise<Record<string, unknown>> {
    return this.request(path, { method: "POST", body: JSON.stringify(body), headers: { "Idempotency-Key": idempotencyKey } });
  }

  /** Reads a task at its action's path; null only when RunAPI says it does not know it (404). */
  async getTask(path: string, id: string): Promise<UpstreamTask | null> {
    let json: Record<string, unknown>;
    try {
      json = await this.request(`${path}/${encodeURIComponent(id)}`, { method: "GET" });
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") return null;
      throw err;
    }
    const task = parseUpstreamTask(json);
    if (!task) throw new AppError("upstream_error", "RunAPI answered a status read with a body that is not a task");
    return task;
  }

  /** Asks RunAPI's price_quotes endpoint for a reservation amount, in cents. */
  async priceQuoteCents(req: { service: string; action: string; model: string | null; params: Record<string, unknown> }): Promise<number> {
    const json = await this.request("/api/v1/price_quotes", {
      method: "POST",
      body: JSON.stringify({ service: req.service, action: req.action, model: req.model, params: req.params }),
    });
    const quote = json.price_quote as { reservation_amount_cents?: unknown } | undefined;
    const cents = quote?.reservation_amount_cents;
    if (typeof cents !== "number" || !Number.isFinite(cents) || cents < 0)
      throw new AppError("upstream_error", "RunAPI answered a price quote without an amount");
    return cents;
  }

  /**
   * RunAPI's live price schedule (`GET /api/v1/price_schedules`), conditional on the ETag the proxy holds:
   * `null` when it has not changed (304), else its body and new ETag.
   */
  async priceSchedules(etag: string | null): Promise<{ etag: string | null; body: Record<string, unknown> } | null> {
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": USER_AGENT, Authorization: `Bearer ${this.config.runapiApiKey}` };
    if (etag) headers["If-None-Match"] = etag;
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}/api/v1/price_schedules`, {
        headers,
        signal: AbortSignal.timeout(this.config.upstreamTimeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new AppError("upstream_timeout", `RunAPI did not answer within ${this.config.upstreamTimeoutMs} ms`);
      }
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return null;
    }
    // A schedule is larger than a task: up to 16 × the JSON limit (a few hundred entries take ~100 KB).
    const answer = await readAnswer(res, 16 * this.config.upstreamMaxJsonBytes);
    if (!res.ok) throw mapUpstreamError(res, answer, this.config.runapiApiKey);
    if (!answer.json) throw new AppError("upstream_error", "RunAPI answered the price schedule with a body that is not a JSON object");
    return { etag: res.headers.get("etag"), body: answer.json };
  }

  /**
   * Forwards an OpenAI-compatible call (`/v1/...`) with the upstream key and returns RunAPI's response as it
   * arrives, body unread (streams stay streams). The timeout covers the wait for headers only. A non-2xx
   * answer is read and thrown as the proxy's error, like every other upstream failure.
   */
  async openAi(method: "GET" | "POST", path: `/v1/${string}`, body?: string, headersTimeoutMs = this.config.upstreamTimeoutMs): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.config.runapiApiKey}`, "User-Agent": USER_AGENT };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException("headers timeout", "TimeoutError")), headersTimeoutMs);
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}${path}`, { method, headers, body, signal: abort.signal });
    } catch (_err) {
      if (abort.signal.aborted) throw new AppError("upstream_timeout", `RunAPI did not answer within ${headersTimeoutMs} ms`);
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    } finally {
      clearTimeout(timer);
    }
    if (res.ok) return res;
    throw mapUpstreamError(res, await readAnswer(res, this.config.upstreamMaxJsonBytes), this.config.runapiApiKey);
  }

  /**
   * Forwards one call of RunAPI's upload endpoints (`/api/v1/files…`, `/v1/uploads…`) with the upstream key and none
   * of the client's headers: the body as given with its content type (a stream goes on as it arrives, never buffered
   * here), once (a stream cannot be sent twice). RunAPI's JSON answer is read with a byte limit. Its errors map as
   * every upstream error does, except that an unknown id (404), a state conflict (409) and a file too large (413) are
   * the client's to hear, with RunAPI's message.
   */
  async upload(
    path: `/api/v1/files${string}` | `/v1/uploads${string}`,
    body: BodyInit | null,
    contentType: string,
    timeoutMs = this.config.upstreamTimeoutMs,
  ): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.runapiApiKey}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
      "Content-Type": contentType,
    };
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}${path}`, { method: "POST", headers, body, signal });
    } catch (_err) {
      if (signal.aborted) throw new AppError("upstream_timeout", `RunAPI did not answer within ${timeoutMs} ms`);
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    }
    const answer = await readAnswer(res, this.config.upstreamMaxJsonBytes);
    if (res.ok) {
      if (!answer.json) throw new AppError("upstream_error", "RunAPI answered an upload with a body that is not a JSON object", { unreadable: true });
      return answer.json;
    }
    const code = UPLOAD_ERRORS[res.status];
    if (!code) throw mapUpstreamError(res, answer, this.config.runapiApiKey);
    const message = upstreamMessage(answer.json, this.config.runapiApiKey);
    throw new AppError(code, `RunAPI refused the upload${message ? `: ${message}` : ""}`, { upstream_status: res.status });
  }

  private async request(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.runapiApiKey}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
      ...init.headers,
    };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetcher.fetch(`${this.config.runapiBaseUrl}${path}`, {
        method: init.method,
        headers,
        body: init.body,
        signal: AbortSignal.timeout(this.config.upstreamTimeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
        throw new AppError("upstream_timeout", `RunAPI did not answer within ${this.config.upstreamTimeoutMs} ms`);
      }
      throw new AppError("upstream_unavailable", "RunAPI could not be reached", { retryable: true });
    }
    const answer = await readAnswer(res, this.config.upstreamMaxJsonBytes);
    if (res.ok) {
      // RunAPI said yes but what it said cannot be read: whatever it did, the proxy does not know (`unreadable`).
      if (answer.body === "too_large") {
        throw new AppError("upstream_error", `RunAPI answered with more than ${this.config.upstreamMaxJsonBytes} bytes`, {
          upstream_status: res.status,
          unreadable: true,
        });
      }
      if (!answer.json) throw new AppError("upstream_error", "RunAPI answered with a body that is not JSON", { upstream_status: res.status, unreadable: true });
      return answer.json;
    }
    throw mapUpstreamError(res, answer, this.config.runapiApiKey);
  }
}

/** An answer's JSON object (null when it is none) and whether its body was there and read whole. */
type Answer = { json: Record<string, unknown> | null; body: "read" | "empty" | "too_large" | "broken" };

/** Reads an answer with the JSON limit (SPEC §13): a larger or broken body is noted, never read on. */
async function readAnswer(res: Response, maxBytes: number): Promise<Answer> {
  let text: string;
  try {
    text = await readText(res, maxBytes);
  } catch (err) {
    return { json: null, body: err instanceof UpstreamBodyError ? err.reason : "broken" };
  }
  if (!text.trim()) return { json: null, body: "empty" };
  try {
    const value: unknown = JSON.parse(text);
    return { json: value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null, body: "read" };
  } catch {
    return { json: null, body: "read" };
  }
}

/** RunAPI's `error` (a string or `{code, message}`) as a short, secret-free message. */
function upstreamMessage(json: Record<string, unknown> | null, secret: string): string {
  const error = json?.error;
  const raw =
    typeof error === "string" ? error : error && typeof error === "object" && "message" in error ? String((error as { message: unknown }).message) : "";
  return raw.split(secret).join("[redacted]").slice(0, 300);
}

/**
 * Maps an upstream failure onto the proxy's error codes (SPEC §3); never echoes credentials. An error
 * answer without a readable body says so (`upstream_body: "none"`): it is no proof that RunAPI did nothing.
 */
function mapUpstreamError(res: Response, answer: Answer, secret: string): AppError {
  const message = upstreamMessage(answer.json, secret);
  const details: Record<string, unknown> = { upstream_status: res.status };
  if (answer.body !== "read") details.upstream_body = "none";
  switch (res.status) {
    case 400:
    case 422:
      return new AppError("invalid_request", `RunAPI rejected the request${message ? `: ${message}` : ""}`, details);
    case 401:
    case 403:
      return new AppError("upstream_error", "RunAPI rejected the proxy's credentials; the operator must check RUNAPI_API_KEY", details);
    case 402:
      return new AppError("upstream_unavailable", "The operator's RunAPI account is out of credits; the operator must top it up", details);
    case 404:
      return new AppError("not_found", "RunAPI does not know this task", details);
    case 409:
      return new AppError("upstream_error", `RunAPI refused the request as a conflict${message ? `: ${message}` : ""}`, details);
    case 429: {
      const retryAfter = res.headers.get("retry-after");
      const seconds = retryAfter && /^\d+$/.test(retryAfter) ? retryAfter : "30";
      return new AppError(
        "rate_limited",
        "RunAPI is rate limiting the proxy; retry later",
        { ...details, retry_after_seconds: Number(seconds) },
        { "Retry-After": seconds },
      );
    }
    default:
      if (res.status >= 500) return new AppError("upstream_error", `RunAPI failed with status ${res.status}`, { ...details, retryable: true });
      return new AppError("upstream_error", `RunAPI answered with unexpected status ${res.status}`, details);
  }
}

/**
 * Whether a failed create may still have been accepted by RunAPI (SPEC §13 "work done is billed"): its answer
 * was lost (a timeout, the connection failing), unreadable (too large, not JSON), or RunAPI failed (5xx) —
 * as opposed to RunAPI refusing it (4xx). Such a task keeps its money and is reconciled with the same
 * upstream Idempotency-Key; only a definite answer releases it.
 */
export function isLostAnswer(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  if (err.code === "upstream_timeout") return true;
  if (err.code === "upstream_unavailable" && err.details?.retryable === true) return true;
  const status = err.details?.upstream_status;
  return err.code === "upstream_error" && (err.details?.unreadable === true || (typeof status === "number" && status >= 500));
}

/** Checks and narrows a task from RunAPI (status GET or callback body); null when it is not one. */
export function parseUpstreamTask(json: unknown): UpstreamTask | null {
  if (!json || typeof json !== "object") return null;
  const t = json as Record<string, unknown>;
  const id = typeof t.id === "string" ? t.id : typeof t.task_id === "string" ? t.task_id : null;
  if (!id || typeof t.status !== "string" || !UPSTREAM_STATUSES.has(t.status)) return null;
  const task: UpstreamTask = { id, status: t.status as UpstreamTask["status"] };
  if (Array.isArray(t.videos)) {
    task.videos = t.videos.filter((v): v is { url: string } => !!v && typeof (v as { url?: unknown }).url === "string").map((v) => ({ url: v.url }));
  }
  if (t.error !== undefined && t.error !== null) {
    task.error =
      typeof t.error === "string"
        ? { code: "upstream_failed", message: t.error.slice(0, 500) }
        : {
            code: String((t.error as { code?: unknown }).code ?? "upstream_failed"),
            message: String((t.error as { message?: unknown }).message ?? "").slice(0, 500),
          };
  }
  const result = Object.fromEntries(Object.entries(t).filter(([k]) => !TASK_META.has(k)));
  if (Object.keys(result).length) task.result = boundedResult(result);
  // A cost outside any sane range is ignored (the estimate is charged), never trusted.
  if (typeof t.cost_cents === "number" && Number.isFinite(t.cost_cents) && t.cost_cents >= 0 && t.cost_cents <= MAX_COST_CENTS) task.cost_cents = t.cost_cents;
  return task;
}

/** A result small enough to keep with the task; a larger one is cut to its top-level URL-bearing fields. */
function boundedResult(result: Record<string, unknown>): Record<string, unknown> {
  if (JSON.stringify(result).length <= MAX_RESULT_CHARS) return result;
  const urls = Object.fromEntries(Object.entries(result).filter(([k]) => /url|videos|images|audios/.test(k)));
  return JSON.stringify(urls).length <= MAX_RESULT_CHARS ? { ...urls, result_truncated: true } : { result_truncated: true };
}

/**
 * Whether RunAPI definitely did no work for a request answered in the request (a chat, a synchronous action):
 * it refused it (4xx), or failed and said so in a body (5xx with a body). A timeout, a reset or a bodiless 5xx
 * is no such proof.
 */
export function refusedByRunApi(err: unknown): boolean {
  const status = err instanceof AppError ? err.details?.upstream_status : undefined;
  return (
    typeof status === "number" &&
    (status < 500 || (err as AppError).details?.upstream_body !== "none") &&
    err instanceof AppError &&
    err.details?.unreadable !== true
  );
}
