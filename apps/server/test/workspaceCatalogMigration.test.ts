import { type Db, migrateToLatest } from "@switchyard/db";
import { createDatabaseAt } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An upgrade from 0011 to the workspace catalog (0012): existing events are counted once, workspaces read
// description null and active, and an organization's id can change with everything that names it.

let db: Db;
let close: () => Promise<void>;
let drop: () => Promise<void>;

const org = "0198a000-0000-7000-8000-000000000001";
const ws = "0198a000-0000-7000-8000-0000000000aa";
const otherWs = "0198a000-0000-7000-8000-0000000000bb";

beforeAll(async () => {
  ({ db, close, drop } = await createDatabaseAt("0011_one_rule_for_matching_and_status"));
});

afterAll(async () => {
  await close?.();
  await drop?.();
});

describe("migration 0012 (workspace catalog)", () => {
  it("when events exist before the upgrade, then the catalog counts them per workspace, name and resource, with first and last times", async () => {
    await sql`insert into organizations (id, name) values (${org}, 'Old')`.execute(db);
    await sql`insert into workspaces (id, organization_id, name) values (${ws}, ${org}, 'One'), (${otherWs}, ${org}, 'Two')`.execute(db);
    await sql`insert into events (id, workspace_id, event, resource, resource_id, payload, created_by, status, created_at) values
      ('0198a000-0000-7000-8000-000000000011', ${ws}, 'a', 'contact', null, '{}', 'x', 'completed', '2026-01-01T00:00:00Z'),
      ('0198a000-0000-7000-8000-000000000012', ${ws}, 'a', 'contact', null, '{}', 'x', 'completed', '2026-01-02T00:00:00Z'),
      ('0198a000-0000-7000-8000-000000000013', ${ws}, 'b', null, null, '{}', 'x', 'completed', '2026-01-03T00:00:00Z'),
      ('0198a000-0000-7000-8000-000000000014', ${otherWs}, 'a', 'global', null, '{}', 'x', 'completed', '2026-01-04T00:00:00Z')`.execute(
      db,
    );

    expect(await migrateToLatest(db)).toContain("0012_workspace_catalog");

    const rows = await sql<{ workspace_id: string; kind: string; key: string; n: string; first: Date; last: Date }>`
      select workspace_id, kind, key, sum(event_count) as n, min(first_seen_at) as first, max(last_seen_at) as last
      from workspace_catalog group by workspace_id, kind, key order by workspace_id, kind, key`.execute(db);
    expect(rows.rows.map((r) => [r.workspace_id, r.kind, r.key, Number(r.n), r.first.toISOString(), r.last.toISOString()])).toEqual([
      [ws, "event", "a", 2, "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"],
      [ws, "event", "b", 1, "2026-01-03T00:00:00.000Z", "2026-01-03T00:00:00.000Z"],
      [ws, "resource", "contact", 2, "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"],
      [ws, "resource", "global", 1, "2026-01-03T00:00:00.000Z", "2026-01-03T00:00:00.000Z"],
      [otherWs, "event", "a", 1, "2026-01-04T00:00:00.000Z", "2026-01-04T00:00:00.000Z"],
      [otherWs, "resource", "global", 1, "2026-01-04T00:00:00.000Z", "2026-01-04T00:00:00.000Z"],
    ]);

    const workspaces = await sql<{ description: string | null; active: boolean }>`select description, active from workspaces`.execute(db);
    expect(workspaces.rows).toEqual([
      { description: null, active: true },
      { description: null, active: true },
    ]);

    const newId = "5f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
    await sql`update organizations set id = ${newId} where id = ${org}`.execute(db);
    const moved = await sql<{ n: number }>`select count(*)::int as n from workspaces where organization_id = ${newId}`.execute(db);
    expect(moved.rows[0]?.n).toBe(2);
  });
});
