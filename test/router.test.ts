import { describe, expect, it } from "vitest";
import { CachedRouter } from "../src/lib/cached-router";
import { api, expectError, getTask, json, t2v, tenantWithKey } from "./helpers";

/** The handlers and params a router answers for one request, as Hono reads them. */
function matched(router: CachedRouter<string>, method: string, path: string) {
  const [handlers, stash] = router.match(method, path);
  return handlers.map(([handler, params]) => ({
    handler,
    params: stash ? Object.fromEntries(Object.entries(params).map(([k, i]) => [k, stash[i as number]])) : params,
  }));
}

describe("the app's router remembers its answers (a trie walk per request is not free)", () => {
  it("answers as the router it wraps, per method and path, remembered or not", () => {
    const router = new CachedRouter<string>();
    router.add("ALL", "*", "log");
    router.add("POST", "/api/v1/:service/:action", "create");
    router.add("GET", "/api/v1/:service/:action/:id", "read");
    router.add("GET", "/api/v1/tasks/:id", "task");
    for (let round = 0; round < 2; round++) {
      expect(matched(router, "POST", "/api/v1/kling/text_to_video")).toEqual([
        { handler: "log", params: {} },
        { handler: "create", params: { service: "kling", action: "text_to_video" } },
      ]);
      expect(matched(router, "GET", "/api/v1/kling/text_to_video")).toEqual([{ handler: "log", params: {} }]);
      expect(matched(router, "GET", "/api/v1/tasks/a1")).toEqual([
        { handler: "log", params: {} },
        { handler: "task", params: { id: "a1" } },
      ]);
      expect(matched(router, "GET", "/api/v1/tasks/b2").at(-1)).toEqual({ handler: "task", params: { id: "b2" } });
    }
    // A path too long to keep is matched every time, never remembered.
    const long = `/api/v1/tasks/${"x".repeat(300)}`;
    expect(matched(router, "GET", long).at(-1)?.params).toEqual({ id: "x".repeat(300) });
  });

  it("in the app: each request gets its own path's params, after the same route has been remembered for others", async () => {
    const { key } = await tenantWithKey();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json(await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(`router ${i}`) }))).id);
    for (const id of ids) expect((await getTask(key, id)).id).toBe(id);
    // The same path with another method is not the create route.
    await expectError(await api(key, "/api/v1/hailuo/text_to_video", { method: "PUT" }), 404, "not_found");
  });
});
