/**
 * Writes `schema.sql`, what the migrations make of an empty database: run after adding a migration, with
 * `pnpm --filter @switchyard/db run schema:write`. Uses `DATABASE_URL`'s server (a superuser URL) when set,
 * otherwise an embedded PostgreSQL started for the purpose.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "./embeddedPostgres.js";
import { freePort } from "./freePort.js";
import { migratedSchema } from "./migratedSchema.js";

async function schemaOnEmbeddedPostgres(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchyard-schema-"));
  try {
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    try {
      return await migratedSchema(embedded.adminConnectionString);
    } finally {
      await embedded.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const serverUrl = process.env.DATABASE_URL;
const text = serverUrl === undefined || serverUrl === "" ? await schemaOnEmbeddedPostgres() : await migratedSchema(serverUrl);
await writeFile(new URL("../schema.sql", import.meta.url), text);
console.log("schema.sql written");
