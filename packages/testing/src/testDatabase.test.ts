import { databaseUrl, loadMigrations } from "@switchyard/db";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createDatabaseAt, createTestDatabase } from "./testDatabase.js";

const drops: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const drop of drops) await drop();
});

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const appliedMigrations = (url: string) =>
  query<{ name: string }>(url, "select name from kysely_migration order by name").then((rows) => rows.map((r) => r.name));
const hasTable = async (url: string, table: string) =>
  (await query<{ found: boolean }>(url, `select to_regclass('${table}') is not null as found`))[0]?.found;
const exists = async (name: string) =>
  (await query(inject("adminUrl"), `select 1 from pg_database where datname = '${name}'`)).length === 1;

describe("createTestDatabase", () => {
  it("when a file asks for a database, then it gets a clone of the template with every migration applied and the job queue installed", async () => {
    const database = await createTestDatabase();
    drops.push(database.drop);
    expect(await appliedMigrations(database.url)).toEqual(Object.keys(await loadMigrations()));
    expect(await hasTable(database.url, "graphile_worker.jobs")).toBe(true);
    expect(new URL(database.url).pathname.slice(1)).toMatch(new RegExp(`^${inject("templateDatabase")}_[0-9a-f]{8}$`));
  });

  it("when two clones are made, then a write to one is not seen in the other nor in the template", async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    drops.push(first.drop, second.drop);
    await query(first.url, "insert into organizations (id, name) values ('0198a000-0000-4000-8000-000000000001', 'Only here')");
    expect(await query(first.url, "select name from organizations")).toEqual([{ name: "Only here" }]);
    expect(await query(second.url, "select name from organizations")).toEqual([]);
    const template = databaseUrl(inject("adminUrl"), inject("templateDatabase"));
    expect(await query(template, "select name from organizations")).toEqual([]);
  });

  it("when `empty` is asked for, then the database has no schema at all", async () => {
    const database = await createTestDatabase({ empty: true });
    drops.push(database.drop);
    expect(await hasTable(database.url, "events")).toBe(false);
    expect(await hasTable(database.url, "kysely_migration")).toBe(false);
  });

  it("when `drop` is called while a session is still open on the database, then the database is gone", async () => {
    const database = await createTestDatabase();
    const name = new URL(database.url).pathname.slice(1);
    const lingering = new pg.Client({ connectionString: database.url });
    lingering.on("error", () => {});
    await lingering.connect();
    await database.drop();
    expect(await exists(name)).toBe(false);
    await lingering.end().catch(() => {});
  });
});

describe("createDatabaseAt", () => {
  it("when asked for a migration, then the database has exactly the migrations up to and including it, and is open", async () => {
    const names = Object.keys(await loadMigrations());
    const target = names[2] ?? "";
    const database = await createDatabaseAt(target);
    drops.push(database.drop);
    try {
      const { rows } = await database.pool.query<{ name: string }>("select name from kysely_migration order by name");
      expect(rows.map((r) => r.name)).toEqual(names.slice(0, 3));
    } finally {
      await database.close();
    }
  });

  it("when the migration does not exist, then it fails and leaves no database behind", async () => {
    const before = await query<{ datname: string }>(inject("adminUrl"), "select datname from pg_database order by 1");
    await expect(createDatabaseAt("9999_no_such_migration")).rejects.toThrow();
    const after = await query<{ datname: string }>(inject("adminUrl"), "select datname from pg_database order by 1");
    expect(after).toEqual(before);
  });
});
