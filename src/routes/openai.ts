import { log } from "../lib/log";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../env";
import { budgetsFor } from "../domain/budgets";
import { chatCostMicros, estimateTokens, inputTokenBound, outputTokenBound, parseUsage } from "../domain/chat-pricing";
import { withMarkup } from "../domain/markup";
import { formatUsd, microsToUsd, type Micros } from "../domain/money";
import { isBackend, modelRefusedBy, tenantMarkup, visibleScopes } from "../domain/tenant";
import { readJsonText } from "../lib/body";
import { AppError, errorBody, invalidRequest, type FieldIssue } from "../lib/errors";
import { chatPricing, type ChatPricing } from "../lib/pricing";
import { meterSse, parseJson, type StreamOutcome } from "../lib/sse-meter";
import { assertModelAllowed, refusal } from "../lib/refusal";
import { ledgerStub } from "../lib/stubs";
import { closeGathered, holdGathered } from "../durable-objects/hold-flow";
import { verifyHuman } from "../lib/turnstile";
import { activeSchedule } from "../lib/price-store";
import { optionalTenantAuth, tenantAuth } from "../middleware/auth";
import { readText, UpstreamBodyError } from "../upstream/read";
import { refusedByRunApi, RunApiClient } from "../upstream/runapi";
import { openAiError } from "../lib/openai-errors";
import { chatModels } from "./model-views";
import { timeOrderedUuid } from "../lib/crypto";

type ChatBody = Record<string, unknown> & { model: string; messages: unknown[]; stream?: boolean; stream_options?: Record<string, unknown> | null };

/** The few fields the proxy must understand to meter a chat request; everything else passes through untouched. */
function checkedChatBody(json: unknown): ChatBody {
  if (!json || typeof json !== "object" || Array.isArray(json)) throw invalidRequest([{ field: "", message: "must be a JSON object" }]);
  const body = json as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  if (typeof body.model !== "string" || !body.model) issues.push({ field: "model", message: "is required" });
  if (!Array.isArray(body.messages) || body.messages.length === 0) issues.push({ field: "messages", message: "must be a non-empty array" });
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") issues.push({ field: "stream", message: "must be a boolean" });
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== "object" || Array.isArray(so))) issues.push({ field: "stream_options", message: "must be an object" });
  for (const field of ["max_tokens", "max_completion_tokens", "n"]) {
    const v = body[field];
    if (v !== undefined && v !== null && !(typeof v === "number" && Number.isInteger(v) && v > 0))
      issues.push({ field, message: "must be a positive integer" });
  }
  if (issues.length) throw invalidRequest(issues);
  return body as ChatBody;
}

/**
 * The charge for what a request used (or, without `usage`, what it showed): RunAPI's cost at the model's rates, with the
 * tenant's markup, capped at its reservation; with RunAPI's cost and a ledger note.
 */
function chargeFor(pricing: ChatPricing, reserved: Micros, usage: StreamOutcome["usage"], inputBytes: number, outputBytes: number, end: string) {
  const tokens = usage ?? { input: estimateTokens(inputBytes), output: estimateTokens(outputBytes) };
  const cost = chatCostMicros(pricing.rates, tokens.input, tokens.output);
  const priced = withMarkup(cost, pricing.markupPercent);
  const charge = Math.min(priced, reserved);
  const how = usage ? "from upstream usage" : "estimated from the text sent and streamed";
  const capped = priced > reserved ? `; priced $${formatUsd(priced)}, capped at the reservation` : "";
  return {
    charge,
    cost,
    note: `chat ${pricing.rates.model}: ${tokens.input} input + ${tokens.output} output tokens ${how}${end === "done" ? "" : ` (${end.replace("_", " ")})`}${capped}`,
  };
}

/**
 * Whether RunAPI said it did no work for a chat: an error answer it could read (a 4xx, or a 5xx with a body).
 * Anything else after the request went out (a timeout, a reset, an empty or unreadable 5xx) is a lost answer.
 */

/** The error of a chat whose answer was lost, charged its reservation (SPEC §13 "work done is billed"), saying so. */
function chargedError(err: AppError, reserved: Micros): AppError {
  const message = `${err.message}. RunAPI may have done the work, so this request is charged its reservation ($${formatUsd(reserved)})`;
  const headers = { ...err.headers, "X-Charge-Basis": "reservation", "X-Charged-Usd": formatUsd(reserved) };
  return new AppError(err.code, message, err.details, headers);
}

/** What `allowed_models` is matched against for a chat: the model, of service `chat`, action `completions`. */
function chatTarget(model: string) {
  return { service: "chat", action: "completions", model };
}

/** The chat models, as the caller may use them: all of them without a key, else those its tenant's and key's `allowed_models` allow. */
async function usableChatModels(c: Context<AppEnv>) {
  const models = chatModels(await activeSchedule(c.env.TENANTS));
  const auth = c.get("auth");
  return auth ? models.filter((m) => modelRefusedBy(auth, chatTarget(m.id)) === null) : models;
}

/** OpenAI-compatible chat for agents (SPEC §8): the tenant's key in, the upstream key out, every chat metered. */
export const openai = new Hono<AppEnv>()
  // Chat models only, from the price schedule (media models are in GET /api/v1/models). Public as RunAPI's list is
  // (its MCP servers call it without a key): a key, when sent, must be valid.
  .get("/models", optionalTenantAuth, async (c) => {
    c.header("Cache-Control", c.get("auth") ? "private, max-age=60" : "public, max-age=60");
    return c.json({ object: "list", data: await usableChatModels(c) });
  })
  .get("/models/:id{.+}", optionalTenantAuth, async (c) => {
    const id = c.req.param("id");
    const model = (await usableChatModels(c)).find((m) => m.id === id);
    if (!model) throw new AppError("not_found", `The model '${id}' does not exist on this proxy; GET /v1/models lists the chat models`);
    c.header("Cache-Control", c.get("auth") ? "private, max-age=60" : "public, max-age=60");
    return c.json(model);
  })
  .use(tenantAuth)
  .post("/chat/completions", async (c) => {
    const config = c.get("config");
    const auth = c.get("auth");
    const { json, text, bytes } = await readJsonText(c, config.chatMaxBodyBytes);
    const body = checkedChatBody(json);
    // The tenant's and the key's `allowed_models` cover chat too: a model, `chat`, or `chat/completions`.
    assertModelAllowed(auth, chatTarget(body.model), body.model);
    const pricing = await chatPricing(c.env.TENANTS, body.model, tenantMarkup(auth.tenant));

    await verifyHuman(c); // a publishable key's chats need the human check too, like its creates

    // Reserve the most this request can cost before anything is forwarded.
    const reservedCost = chatCostMicros(
      pricing.rates,
      inputTokenBound(bytes, body),
      outputTokenBound(pricing.rates, body as { max_tokens?: unknown; max_completion_tokens?: unknown; n?: unknown }),
    );
    const reserved = withMarkup(reservedCost, pricing.markupPercent);
    const id = timeOrderedUuid();
    const ledger = ledgerStub(c.env, auth.tenant.id);
    const unchecked = () => {
      log.error("chat_reserve_failed", { request_id: c.get("requestId") });
      return new AppError("service_unavailable", "The budget could not be checked; nothing was sent to RunAPI. Retry shortly.", undefined, {
        "Retry-After": "1",
      });
    };
    const reservation = await holdGathered(
      c.env,
      auth.tenant.id,
      {
        taskId: id,
        keyId: auth.key.id,
        endUser: auth.endUser,
        model: body.model,
        amountMicros: reserved,
        costMicros: reservedCost,
        now: Date.now(),
        budgets: budgetsFor(auth),
        maxConcurrentTasks: null, // a chat holds no video task slot
        requestsPerMinute: auth.tenant.limits.requests_per_minute,
        endUserRequestsPerMinute: auth.endUser === null ? null : (auth.key.end_user_requests_per_minute ?? null),
        idempotency: null,
      },
      (p) => c.executionCtx.waitUntil(p),
    ).catch(async () => {
      // The tenant's object did not answer, so nothing is forwarded; free a hold it may have made before its answer was lost.
      await ledger.release(id, Date.now(), "chat not forwarded: the reservation's answer was lost").catch(() => undefined);
      throw unchecked();
    });
    if (!reservation.ok) {
      if (reservation.code === "failed") throw unchecked(); // delivered too late to hold anything
      if (reservation.code === "idempotent_replay" || reservation.code === "invalid_reference")
        throw new AppError("internal_error", "Unexpected answer for a chat");
      throw refusal(reservation, microsToUsd(reserved), isBackend(auth));
    }
    const visible = visibleScopes(auth, reservation.budgets);
    const budgetHeader: Record<string, string> = visible.length
      ? { "X-Budget-Remaining-Usd": formatUsd(Math.min(...visible.map((b) => b.remaining_micros))) }
      : {};

    // Streams ask upstream for usage; the client sees that chunk only if it asked for it too.
    const stream = body.stream === true;
    const clientWantsUsage = body.stream_options?.include_usage === true;
    const upstreamText =
      stream && !clientWantsUsage ? JSON.stringify({ ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } }) : text;

    /** RunAPI may have done the work but its answer is lost: the reservation, its upper bound, is the charge. */
    const chargeReservation = async (err: AppError, what: string): Promise<AppError> => {
      await ledger
        .settle(id, reserved, Date.now(), `chat ${body.model}: ${what}; charged the amount reserved`, reservedCost)
        .catch((e: unknown) => log.error("chat_settle_failed", { request_id: c.get("requestId"), error: e instanceof Error ? e.name : "unknown" }));
      return chargedError(err, reserved);
    };

    let upstream: Response;
    try {
      upstream = await new RunApiClient(config, c.env.RUNAPI).openAi("POST", "/v1/chat/completions", upstreamText, config.chatTimeoutMs);
    } catch (err) {
      const failure = err instanceof AppError ? err : new AppError("upstream_unavailable", "RunAPI could not be reached");
      if (!refusedByRunApi(failure)) throw await chargeReservation(failure, `RunAPI's answer was lost (${failure.code})`);
      await ledger.release(id, Date.now(), `chat upstream ${failure.code}`).catch(() => undefined);
      throw failure;
    }

    if (!stream || !upstream.body || !(upstream.headers.get("content-type") ?? "").includes("text/event-stream")) {
      let answer: string;
      try {
        answer = await readText(upstream, config.chatMaxResponseBytes);
      } catch (err) {
        const why = err instanceof UpstreamBodyError ? err.message : "the answer could not be read";
        throw await chargeReservation(
          new AppError("upstream_error", `RunAPI's chat answer could not be relayed: ${why}`),
          `RunAPI's answer was unreadable (${why})`,
        );
      }
      const parsed = parseJson(answer) as { usage?: unknown; choices?: { message?: { content?: unknown; tool_calls?: unknown } }[] } | null;
      // A body that is not a JSON object (cut short, garbled) is an answer lost like any other.
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw await chargeReservation(new AppError("upstream_error", "RunAPI's chat answer is not JSON"), "RunAPI's answer was unreadable (not JSON)");
      }
      // Without usage: charged as estimated from its size.
      const usage = parseUsage(parsed.usage);
      const shown = usage
        ? 0
        : new TextEncoder().encode(
            JSON.stringify(Array.isArray(parsed.choices) ? parsed.choices.map((ch) => [ch?.message?.content, ch?.message?.tool_calls]) : answer),
          ).byteLength;
      const { charge, cost, note } = chargeFor(pricing, reserved, usage, bytes, shown, "done");
      // Settled as the answer goes out: the charge is fixed now, and a hold lost with the isolate is charged by the alarm.
      const requestId = c.get("requestId");
      c.executionCtx.waitUntil(
        closeGathered(c.env, auth.tenant.id, { holdId: id, settle: true, chargeMicros: charge, now: Date.now(), note, costMicros: cost }).catch(
          (err: unknown) => log.error("chat_settle_failed", { request_id: requestId, error: err instanceof Error ? err.name : "unknown" }),
        ),
      );
      return new Response(answer, {
        status: upstream.status,
        headers: { "Content-Type": upstream.headers.get("content-type") ?? "application/json", "X-Charged-Usd": formatUsd(charge), ...budgetHeader },
      });
    }

    let settled!: () => void;
    c.executionCtx.waitUntil(new Promise<void>((resolve) => (settled = resolve)));
    const requestId = c.get("requestId");
    const relayed = meterSse(upstream.body, {
      dropUsageChunk: !clientWantsUsage,
      maxEventBytes: config.chatMaxEventBytes,
      cutEvent: (end) =>
        `data: ${JSON.stringify(
          errorBody(
            "upstream_error",
            end === "too_large"
              ? `RunAPI sent an event larger than ${config.chatMaxEventBytes} bytes; the stream ends here and is charged its reservation ($${formatUsd(reserved)})`
              : "RunAPI's stream broke off before it was complete; what was streamed is charged",
            requestId,
          ),
        ).replace(/}}$/, ',"type":"server_error"}}')}\n\n`,
      onEnd: async (outcome) => {
        try {
          const { charge, cost, note } =
            outcome.end === "too_large"
              ? {
                  charge: reserved,
                  cost: reservedCost,
                  note: `chat ${body.model}: RunAPI sent an event over the size limit; charged the amount reserved`,
                }
              : chargeFor(pricing, reserved, outcome.usage, bytes, outcome.outputBytes, outcome.end);
          await closeGathered(c.env, auth.tenant.id, { holdId: id, settle: true, chargeMicros: charge, now: Date.now(), note, costMicros: cost });
        } catch (err) {
          // The sweep reconciles a reservation left open; log the why, never the request.
          log.error("chat_settle_failed", { request_id: requestId, error: err instanceof Error ? err.name : "unknown" });
        } finally {
          settled();
        }
      },
    });
    return new Response(relayed, {
      status: 200,
      headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no", ...budgetHeader },
    });
  })
  .all("*", (c) => {
    throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  })
  .onError(openAiError);
