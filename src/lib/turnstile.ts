import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "./errors";

/** The request header a browser sends its Turnstile token in. */
export const TURNSTILE_HEADER = "X-Turnstile-Token";

/** Tokens Cloudflare issues are at most 2048 characters. */
const MAX_TOKEN_LENGTH = 2048;
const VERIFY_TIMEOUT_MS = 5_000;

/** What siteverify answers (only the fields used). */
interface SiteverifyAnswer {
  success?: unknown;
  "error-codes"?: unknown;
}

/**
 * Optional Cloudflare Turnstile for publishable-key creates (SPEC §9): when `TURNSTILE_SECRET_KEY` is set,
 * a create made with a `pk_` key needs a token from the widget, checked once at `TURNSTILE_VERIFY_URL`.
 * Missing or invalid → 403 before anything is reserved or forwarded; siteverify unreachable → 503 (fail closed).
 * Secret keys and end-user tokens (minted by the tenant's own server) need none.
 */
export async function verifyHuman(c: Context<AppEnv>): Promise<void> {
  const config = c.get("config");
  const auth = c.get("auth");
  const secret = config.turnstileSecretKey;
  if (!secret || auth.via !== "key" || auth.key.kind !== "publishable") return;
  const token = c.req.header(TURNSTILE_HEADER)?.trim();
  if (!token) throw new AppError("forbidden", `Complete the human check first: this key's creates need a Turnstile token in ${TURNSTILE_HEADER}`);
  if (token.length > MAX_TOKEN_LENGTH) throw new AppError("forbidden", "The human check failed: invalid Turnstile token; complete the challenge again");

  const form = new FormData();
  form.set("secret", secret);
  form.set("response", token);
  const ip = c.req.header("cf-connecting-ip");
  if (ip) form.set("remoteip", ip);
  const send = c.env.TURNSTILE ? c.env.TURNSTILE.fetch.bind(c.env.TURNSTILE) : fetch;
  let answer: SiteverifyAnswer;
  try {
    const res = await send(config.turnstileVerifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`siteverify answered ${res.status}`);
    answer = (await res.json()) as SiteverifyAnswer;
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", request_id: c.get("requestId"), turnstile: "siteverify failed", error: err instanceof Error ? err.name : "unknown" }),
    );
    throw new AppError("service_unavailable", "The human check could not be verified right now; nothing was charged. Retry shortly.", undefined, {
      "Retry-After": "5",
    });
  }
  if (answer.success !== true) {
    const codes = Array.isArray(answer["error-codes"]) ? answer["error-codes"].filter((x): x is string => typeof x === "string").slice(0, 5) : [];
    throw new AppError("forbidden", "The human check failed: the Turnstile token is invalid, expired or already used; complete the challenge again", {
      turnstile_errors: codes,
    });
  }
}
