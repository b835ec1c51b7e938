import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../src/embedded.js";
import { freePort } from "../src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL on the test PostgreSQL server, for creating and dropping databases. */
    adminUrl: string;
  }
}

/** One PostgreSQL for the run: `DATABASE_URL`'s server when set, otherwise an embedded one started here. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL;
  if (given !== undefined && given !== "") {
    project.provide("adminUrl", given);
    return async () => {};
  }
  const dataDir = await mkdtemp(join(tmpdir(), "switchyard-db-test-pg-"));
  const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), postgresFlags: ["-c", "fsync=off"] });
  project.provide("adminUrl", embedded.adminConnectionString);
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
