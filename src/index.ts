import { app } from "./app";

export { TenantLedger } from "./durable-objects/tenant";

export default app satisfies ExportedHandler<Env>;
