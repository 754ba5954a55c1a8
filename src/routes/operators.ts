import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { OPERATOR_TOKEN_PREFIX, ROLES } from "../domain/operators";
import { randomToken, sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { operatorLog } from "../lib/stubs";
import { parseBody, parseQuery } from "../lib/validate";
import { auditAs } from "../middleware/audit";

/** `POST /admin/v1/operators`: a named token with a role. */
export const OperatorCreate = z.object({ name: z.string().trim().min(1).max(200), role: z.enum(ROLES) }).strict();

/** `GET /admin/v1/audit`: entries newest first, `from` ≤ at < `to`, a page at a time. */
export const AuditQuery = z.object({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.coerce.number().int().positive().optional(),
});

const TOKEN_ID = /^op_[A-Za-z0-9_-]{1,64}$/;

/** Who the caller is, the operator tokens (admins make and revoke them), and the audit log of every operator write. */
export const operators = new Hono<AppEnv>()
  .get("/me", (c) => c.json(c.var.operator))
  .post("/operators", async (c) => {
    const input = await parseBody(c, OperatorCreate);
    const token = randomToken(OPERATOR_TOKEN_PREFIX, 24);
    const created = await operatorLog(c.env).createToken({
      id: randomToken("op_", 9),
      hash: await sha256Hex(token),
      name: input.name,
      role: input.role,
      prefix: token.slice(0, 10),
      createdBy: c.var.operator.actor,
    });
    auditAs(c, { action: "operator.create", target: `operator:${created.id}`, before: null, after: created });
    return c.json({ ...created, token }, 201);
  })
  .get("/operators", async (c) => c.json({ operators: await operatorLog(c.env).listTokens() }))
  .delete("/operators/:tokenId", async (c) => {
    const id = c.req.param("tokenId");
    const log = operatorLog(c.env);
    const before = TOKEN_ID.test(id) ? await log.getToken(id) : null;
    if (!before) throw new AppError("not_found", `No operator token ${id}`);
    const after = await log.revokeToken(id);
    auditAs(c, { action: "operator.revoke", target: `operator:${id}`, before, after });
    return c.json(after);
  })
  .get("/audit", async (c) => {
    const q = parseQuery(c, AuditQuery);
    const page = await operatorLog(c.env).audit({
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json(page);
  });
