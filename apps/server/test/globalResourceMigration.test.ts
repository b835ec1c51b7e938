import { type Db, migrateToLatest } from "@switchyard/db";
import { createDatabaseAt } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An upgrade from the version that stored NULL for an event sent without `resource` (0009) to Meshes'
// default, "global" (0010).

let db: Db;
let close: () => Promise<void>;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, close, drop } = await createDatabaseAt("0009_generic_claim_plans"));
});

afterAll(async () => {
  await close?.();
  await drop?.();
});

describe("migration 0010 (resource defaults to global)", () => {
  it("when events were stored without a resource, then the upgrade gives them 'global' and leaves the others alone", async () => {
    await sql`insert into organizations (id, name) values ('0198a000-0000-4000-8000-000000000001', 'Old')`.execute(db);
    await sql`insert into workspaces (id, organization_id, name) values
      ('0198a000-0000-7000-8000-0000000000aa', '0198a000-0000-4000-8000-000000000001', 'Old')`.execute(db);
    await sql`insert into events (id, workspace_id, event, resource, resource_id, payload, created_by, status) values
      ('0198a000-0000-7000-8000-000000000001', '0198a000-0000-7000-8000-0000000000aa', 'a', null, null, '{}', 'x', 'completed'),
      ('0198a000-0000-7000-8000-000000000002', '0198a000-0000-7000-8000-0000000000aa', 'b', 'contact', 'c1', '{}', 'x', 'completed')`.execute(
      db,
    );

    expect(await migrateToLatest(db)).toContain("0010_global_resource");

    const rows = await sql<{ event: string; resource: string; resource_id: string | null }>`
      select event, resource, resource_id from events order by id`.execute(db);
    expect(rows.rows).toEqual([
      { event: "a", resource: "global", resource_id: null },
      { event: "b", resource: "contact", resource_id: "c1" },
    ]);
  });
});
