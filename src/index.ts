import { app } from "./app";

export { TenantLedger } from "./durable-objects/tenant-ledger";
export { VideoTask } from "./durable-objects/task";

export default app satisfies ExportedHandler<Env>;
