export { type DatabaseHandle, type DatabaseOptions, type Db, openDatabase } from "./database.js";
export { describeSchema } from "./describeSchema.js";
export {
  type EmbeddedPostgresOptions,
  findRunningEmbeddedPostgres,
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from "./embeddedPostgres.js";
export { freePort } from "./freePort.js";
export { inSnapshot } from "./inSnapshot.js";
export { installJobQueue } from "./installJobQueue.js";
export { inTransaction } from "./inTransaction.js";
export { isDatabaseUnavailable } from "./isDatabaseUnavailable.js";
export { loadMigrations, migrateTo, migrateToLatest } from "./migrate.js";
export { migratedSchema } from "./migratedSchema.js";
export { pingDatabase } from "./pingDatabase.js";
export type * from "./schema.js";
