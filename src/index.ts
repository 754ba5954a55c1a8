import { app } from "./app";
import { archiveRetention } from "./archive/scheduled";
import type { Bindings } from "./env";

export { TenantLedger } from "./durable-objects/tenant";

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => ctx.waitUntil(archiveRetention(controller, env)),
} satisfies ExportedHandler<Bindings>;
