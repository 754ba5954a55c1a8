import { Hono } from "hono";
import type { AppEnv } from "../env";
import { callbackToken } from "../domain/webhook-signing";
import { timingSafeEqual } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { taskStub } from "../lib/stubs";
import { UUID } from "./hailuo";

/**
 * RunAPI's completion callback. The token proves the URL is one we issued; the body is
 * only a wake-up hint — the task object confirms with a status GET before money moves.
 */
export const webhooks = new Hono<AppEnv>().post("/runapi/:taskId/:token", async (c) => {
  const { taskId, token } = c.req.param();
  const expected = UUID.test(taskId) ? await callbackToken(c.var.config.signingSecret, taskId) : null;
  if (!expected || !timingSafeEqual(token, expected)) throw new AppError("not_found", "Not found");
  await c.req.raw.body?.cancel();
  if (!(await taskStub(c.env, taskId).wake())) throw new AppError("not_found", "Not found");
  return c.json({ ok: true });
});
