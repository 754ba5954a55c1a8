import { app } from "./app";
import type { Bindings } from "./env";
import { scheduled } from "./scheduled";

export { TenantLedger } from "./durable-objects/tenant";

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => ctx.waitUntil(scheduled(controller, env)),
} satisfies ExportedHandler<Bindings>;
