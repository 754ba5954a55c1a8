import { Hono } from "hono";
import type { AppEnv } from "../env";
import { callbackToken, callbackTokenTenant } from "../domain/webhook-signing";
import { timingSafeEqual } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { ledgerStub } from "../lib/stubs";
import { parseUpstreamTask } from "../upstream/runapi";
import { UUID } from "../domain/task-state";

const MAX_CALLBACK_BYTES = 64 * 1024;

/**
 * RunAPI's completion callback (inbound). The token proves the URL is one we issued and names the
 * tenant whose object owns the task; the body is only a wake-up hint: the task's status is confirmed
 * with a GET before money moves. The id it names is used only for a task whose create answer was lost.
 */
export const runapiCallbacks = new Hono<AppEnv>().post("/runapi/:taskId/:token", async (c) => {
  const { taskId, token } = c.req.param();
  const tenantId = UUID.test(taskId) ? callbackTokenTenant(token) : null;
  const expected = tenantId === null ? null : await callbackToken(c.var.config.signingSecret, tenantId, taskId);
  if (!expected || !timingSafeEqual(token, expected)) throw new AppError("not_found", "Not found");
  const text = await c.req.text().catch(() => "");
  let hint: string | undefined;
  if (text.length <= MAX_CALLBACK_BYTES) {
    try {
      hint = parseUpstreamTask(JSON.parse(text))?.id;
    } catch {
      hint = undefined; // not JSON: still a wake-up
    }
  }
  if (!(await ledgerStub(c.env, tenantId!).wake(taskId, hint))) throw new AppError("not_found", "Not found");
  return c.json({ ok: true });
});
