import { app } from "./app";
import type { Bindings } from "./env";
import { scheduled } from "./scheduled";
import { withUpstreamMeter } from "./lib/upstream-meter";

export { CapacityCoordinator } from "./durable-objects/capacity-coordinator";
export { ProxyMetrics } from "./durable-objects/metrics";
export { OperatorLog } from "./durable-objects/operator-log";
export { TenantLedger } from "./durable-objects/tenant";

export default {
  // RunAPI calls made while answering are timed and counted (GET /admin/v1/metrics).
  fetch: (request, env, ctx) => app.fetch(request, withUpstreamMeter(env), ctx),
  scheduled: (controller, env, ctx) => ctx.waitUntil(scheduled(controller, env)),
} satisfies ExportedHandler<Bindings>;
