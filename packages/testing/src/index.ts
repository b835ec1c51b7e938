export { databaseUrl, freePort } from "@switchyard/db";
export {
  type Answer,
  type ReceivedRequest,
  type Receiver,
  type ReceiverOptions,
  type Script,
  startReceiver,
} from "./receiver.js";
export { createDatabaseAt, createTestDatabase, type OpenedTestDatabase, type TestDatabase } from "./testDatabase.js";
export { sleep, type WaitForOptions, waitFor } from "./waitFor.js";
export { bearer, createWebhookRoute, type Tenant, type WebhookRoute, type WebhookRouteOptions } from "./webhookRoute.js";
