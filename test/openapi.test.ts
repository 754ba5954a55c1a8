import { inspectRoutes } from "hono/dev";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { app } from "../src/app";
import { budgetAlertBody } from "../src/domain/budget-alerts";
import { ERROR_STATUS } from "../src/lib/errors";
import { TenantCreate } from "../src/routes/admin-schemas";
import { admin, proxy } from "./helpers";

/** A JSON Schema node, as deep as these assertions read it. */
type JsonSchema = { required?: string[]; enum?: string[]; properties: Record<string, JsonSchema> };

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      }
    >
  >;
  components: { schemas: Record<string, JsonSchema> };
};

async function documentJson(): Promise<Doc> {
  const res = await proxy("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Doc;
}

/** A Hono route path as a regex over concrete paths: `:id` is one segment, `:name{a|b}` its own pattern. */
function honoPathRegex(path: string): RegExp {
  const source = path
    .split("/")
    .map((seg) => {
      const param = seg.match(/^:\w+(?:\{(.+)\})?(\?)?$/);
      if (param) return param[1] ? `(?:${param[1]})` : "[^/]+";
      if (seg === "*") return ".*";
      return seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source.replace(/\/$/, "") || "/"}/?$`);
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document served for this deployment", async () => {
    const doc = await documentJson();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers[0]!.url).toBe("https://proxy.test");
  });

  it("documents every route the app serves, with its method", async () => {
    const doc = await documentJson();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method, sample: path.replace(/\{\w+\}/g, "x1") })),
    );
    const served = inspectRoutes(app).filter((r) => !r.isMiddleware);
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter((r) => {
      const re = honoPathRegex(r.path);
      return !documented.some((d) => (r.method === "ALL" || d.method === r.method.toLowerCase()) && re.test(d.sample));
    });
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("describes request bodies with the very zod schema the route validates with", async () => {
    const doc = await documentJson();
    const { $schema: _, ...expected } = z.toJSONSchema(TenantCreate, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >;
    expect(doc.components.schemas.TenantCreate).toEqual(expected);
    expect(doc.paths["/admin/v1/tenants"]!.post!.requestBody!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/TenantCreate" });
    // What the document says is required is what the route refuses without.
    expect(doc.components.schemas.TenantCreate!.required).toEqual(["name", "budget"]);
    const res = await admin("/admin/v1/tenants", { body: { name: "No budget" } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("budget");
  });

  it("documents the one error object, and real errors match it", async () => {
    const doc = await documentJson();
    const error = doc.components.schemas.Error!;
    expect(error.properties.error!.properties.code!.enum).toEqual(Object.keys(ERROR_STATUS));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length, `${method} ${path} documents its errors`).toBeGreaterThan(0);
        for (const [, r] of errors) expect(r.content!["application/json"]!.schema.$ref).toBe("#/components/schemas/Error");
      }
    }
    const res = await proxy("/api/v1/me");
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    for (const field of error.properties.error!.required!) expect(body.error).toHaveProperty(field);
    expect(doc.paths["/api/v1/me"]!.get!.responses["401"]).toBeDefined();
  });
});

describe("outgoing webhooks in the document", () => {
  it("describes the task and budget.threshold webhooks, with exactly the fields the proxy sends", async () => {
    const doc = (await documentJson()) as Doc & { webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: JsonSchema }> } } }> };
    expect(Object.keys(doc.webhooks)).toEqual(["task.terminal", "budget.threshold"]);
    const schema = doc.webhooks["budget.threshold"]!.post.requestBody.content["application/json"]!.schema;
    const sent = budgetAlertBody(
      "acme",
      {
        scope: "tenant",
        subject: "acme",
        period: "month",
        limit_micros: 1_000_000,
        spent_micros: 500_000,
        reserved_micros: 0,
        remaining_micros: 500_000,
        resets_at: "2026-12-01T00:00:00.000Z",
      },
      50,
    );
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(sent).sort());
    expect([...schema.required!].sort()).toEqual(Object.keys(sent).sort());
  });
});

describe("GET /docs", () => {
  it("is an HTML page that loads nothing from another origin", async () => {
    const res = await proxy("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
  });
});
